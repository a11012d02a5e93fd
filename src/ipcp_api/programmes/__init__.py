"""Programmes: multi-year partnership programmes (IPCP, IPAP, ITPP) and their workflow."""
