"""Web-to-lead forms: forms an administrator embeds on any website, whose submissions become leads."""
