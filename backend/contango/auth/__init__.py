"""Identity and access: passwords, tokens, MFA, single sign-on and the permissions matrix."""
