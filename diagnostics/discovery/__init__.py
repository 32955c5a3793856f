"""Settings discovery over the network: the domain's autoconfig files, SRV and MX records, an online ISPDB and
verified probing, registered with mailsettings at start-up (DiagnosticsConfig.ready). docs/DISCOVERY.md."""
