"""The simulated card networks' side of 3-D Secure: a directory server and the issuers' ACS."""
