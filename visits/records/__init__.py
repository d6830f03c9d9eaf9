"""Records kept by the law: the retention schedule and disposal, a leaver's file, subject access."""
