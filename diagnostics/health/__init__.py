"""Mail health: each account's working/failing streak, daily status snapshots, and the admin's health page."""
