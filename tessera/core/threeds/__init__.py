"""3-D Secure: the 3DS server's side of EMV 3DS 2.2 (AReq/ARes, CReq/CRes, RReq/RRes)."""
