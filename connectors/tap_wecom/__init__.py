"""Singer tap for WeCom (企业微信): reps, external contacts, archived messages."""
