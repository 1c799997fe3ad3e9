"""Adapters: implement the domain ports (medbill.ports) with AWS services and local stand-ins."""
