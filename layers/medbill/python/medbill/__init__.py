"""medbill: the domain library shared by every Lambda (shipped as a Lambda layer)."""
