"""Snowball fielding: seeds, referral codes, waves, invitations, reminders."""
