"""Network probes of mail servers. Each returns plain data (diagnostics/results.py); judgment lives in classify/advice.

Modules: net (guarded connect, bounded reads, step recorder), dns, ports, tls, imap, pop3, smtp.
"""
