"""CTI: live call states from a PBX (TAPI on Windows) and placing calls (click-to-call)."""
