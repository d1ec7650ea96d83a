// Registers 'talstream-playback' (see the playback issue).
