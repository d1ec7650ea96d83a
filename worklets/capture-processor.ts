// Registers 'talstream-capture' (see the capture issue).
