"""The bundled ISPDB: read, validated, indexed by every domain, and answered locally with templates resolved."""
from __future__ import annotations

import pytest

from mailsettings import ispdb
from mailsettings.discovery import detect
from mailsettings.ispdb import ConfigError, parse_config

# (domain, incoming protocol, host, port, security, username template, SMTP host, port, security, its username
# template, file), read from
# the XML files by hand: the local answer must equal the entry (its first incoming and outgoing server).
TABLE = [
    ('163.com', 'imap', 'imap.163.com', 993, 'ssl', '%EMAILADDRESS%',
     'smtp.163.com', 465, 'ssl', '%EMAILADDRESS%', '163.com.xml'),
    ('alice.it', 'imap', 'in.alice.it', 143, 'starttls', '%EMAILADDRESS%',
     'out.alice.it', 587, 'starttls', '%EMAILADDRESS%', 'alice.it.xml'),
    ('bay.wind.ne.jp', 'pop3', 'bay.wind.ne.jp', 110, 'none', '%EMAILLOCALPART%',
     'bay.wind.ne.jp', 587, 'none', '%EMAILLOCALPART%', 'bay.wind.ne.jp.xml'),
    ('bb-niigata.jp', 'pop3', 'pop.bb-niigata.jp', 110, 'none', '%EMAILLOCALPART%',
     'pop.bb-niigata.jp', 25, 'none', '%EMAILLOCALPART%', 'bb-niigata.jp.xml'),
    ('bluemail.ch', 'imap', 'imaps.bluewin.ch', 993, 'ssl', '%EMAILADDRESS%',
     'smtpauths.bluewin.ch', 465, 'ssl', '%EMAILADDRESS%', 'bluewin.ch.xml'),
    ('blueyonder.co.uk', 'imap', 'imap4.blueyonder.co.uk', 993, 'ssl', '%EMAILADDRESS%',
     'smtp.blueyonder.co.uk', 465, 'ssl', '%EMAILADDRESS%', 'blueyonder.co.uk.xml'),
    ('bol.com.br', 'imap', 'imap.bol.com.br', 993, 'ssl', '%EMAILLOCALPART%',
     'smtps.bol.com.br', 465, 'ssl', '%EMAILLOCALPART%', 'bol.com.br.xml'),
    ('cc9.ne.jp', 'imap', 'pop.cc9.ne.jp', 993, 'ssl', '%EMAILLOCALPART%',
     'msa.cc9.ne.jp', 465, 'ssl', '%EMAILLOCALPART%', 'cc9.ne.jp.xml'),
    ('centurytel.net', 'pop3', 'pop.centurytel.net', 995, 'ssl', '%EMAILADDRESS%',
     'smtpauth.centurytel.net', 587, 'starttls', '%EMAILADDRESS%', 'centurytel.net.xml'),
    ('clio.ne.jp', 'pop3', 'mail.clio.ne.jp', 110, 'none', '%EMAILLOCALPART%',
     'mail.clio.ne.jp', 587, 'none', '%EMAILLOCALPART%', 'clio.ne.jp.xml'),
    ('co1.wind.jp', 'pop3', 'co1.wind.ne.jp', 110, 'none', '%EMAILLOCALPART%',
     'co1.wind.ne.jp', 587, 'none', '%EMAILLOCALPART%', 'co1.wind.ne.jp.xml'),
    ('co2.wind.jp', 'pop3', 'co2.wind.ne.jp', 110, 'none', '%EMAILLOCALPART%',
     'co2.wind.ne.jp', 587, 'none', '%EMAILLOCALPART%', 'co2.wind.ne.jp.xml'),
    ('co3.wind.jp', 'pop3', 'co3.wind.ne.jp', 110, 'none', '%EMAILLOCALPART%',
     'co3.wind.ne.jp', 587, 'none', '%EMAILLOCALPART%', 'co3.wind.ne.jp.xml'),
    ('comcast.net', 'imap', 'imap.comcast.net', 993, 'ssl', '%EMAILADDRESS%',
     'smtp.comcast.net', 465, 'ssl', '%EMAILADDRESS%', 'comcast.net.xml'),
    ('cty-net.ne.jp', 'pop3', 'pops.cty-net.ne.jp', 995, 'ssl', '%EMAILADDRESS%',
     'smtps.cty-net.ne.jp', 465, 'ssl', '%EMAILADDRESS%', 'cty-net.ne.jp.xml'),
    ('dan.wind.jp', 'pop3', 'dan.wind.ne.jp', 110, 'none', '%EMAILLOCALPART%',
     'dan.wind.ne.jp', 587, 'none', '%EMAILLOCALPART%', 'dan.wind.ne.jp.xml'),
    ('email.cz', 'imap', 'imap.seznam.cz', 993, 'ssl', '%EMAILADDRESS%',
     'smtp.seznam.cz', 465, 'ssl', '%EMAILADDRESS%', 'seznam.cz.xml'),
    ('ff.iij4u.or.jp', 'pop3', 'mbox.iij4u.or.jp', 110, 'starttls', '%EMAILLOCALPART%.%EMAILDOMAIN%',
     'mbox.iij4u.or.jp', 587, 'starttls', '%EMAILLOCALPART%.%EMAILDOMAIN%', 'dd.iij4u.or.jp.xml'),
    ('garnet.broba.cc', 'pop3', 'mail.broba.cc', 110, 'none', '%EMAILADDRESS%',
     'mail.broba.cc', 587, 'none', '%EMAILADDRESS%', 'broba.cc.xml'),
    ('gigahost.dk', 'imap', 'mail.gigahost.dk', 993, 'ssl', '%EMAILADDRESS%',
     'smtp.gigahost.dk', 587, 'starttls', '%EMAILADDRESS%', 'gigahost.dk.xml'),
    ('goo.jp', 'pop3', 'pop.mail.goo.ne.jp', 110, 'none', '%EMAILLOCALPART%',
     'smtp.mail.goo.ne.jp', 587, 'none', '%EMAILLOCALPART%', 'goo.jp.xml'),
    ('hahah.nl', 'imap', 'imap.ziggo.nl', 993, 'ssl', '%EMAILADDRESS%',
     'smtp.ziggo.nl', 587, 'starttls', '%EMAILADDRESS%', 'ziggo.nl.xml'),
    ('hana.or.jp', 'pop3', 'mail.hana.or.jp', 110, 'none', '%EMAILLOCALPART%',
     'mail.hana.or.jp', 587, 'none', '%EMAILLOCALPART%', 'hana.or.jp.xml'),
    ('ic-net.or.jp', 'pop3', 'mail.ic-net.or.jp', 110, 'none', '%EMAILLOCALPART%',
     'smtp.ic-net.or.jp', 587, 'none', '%EMAILLOCALPART%', 'ic-net.or.jp.xml'),
    ('inet-shibata.or.jp', 'pop3', 'po.inet-shibata.or.jp', 110, 'none', '%EMAILLOCALPART%',
     'po.inet-shibata.or.jp', 25, 'none', '%EMAILLOCALPART%', 'inet-shibata.or.jp.xml'),
    ('ispgateway.de', 'imap', 'sslin.df.eu', 993, 'ssl', '%EMAILADDRESS%',
     'sslout.df.eu', 465, 'ssl', '%EMAILADDRESS%', 'df.eu.xml'),
    ('janis.or.jp', 'imap', 'imaps.janis.or.jp', 993, 'ssl', '%EMAILADDRESS%',
     'smtps.janis.or.jp', 465, 'ssl', '%EMAILADDRESS%', 'janis.or.jp.xml'),
    ('ji.jet.ne.jp', 'pop3', 'pop02.jet.ne.jp', 110, 'none', '%EMAILLOCALPART%',
     'smtp02.jet.ne.jp', 587, 'none', '%EMAILLOCALPART%', 'ji.jet.ne.jp.xml'),
    ('kl.wind.jp', 'pop3', 'kl.wind.ne.jp', 110, 'none', '%EMAILLOCALPART%',
     'kl.wind.ne.jp', 587, 'none', '%EMAILLOCALPART%', 'kl.wind.ne.jp.xml'),
    ('libero.it', 'imap', 'imapmail.libero.it', 993, 'ssl', '%EMAILADDRESS%',
     'smtp.libero.it', 465, 'ssl', '%EMAILADDRESS%', 'libero.it.xml'),
    ('mahoroba.ne.jp', 'pop3', 'mail.mahoroba.ne.jp', 110, 'none', '%EMAILLOCALPART%',
     'mail.mahoroba.ne.jp', 587, 'none', '%EMAILLOCALPART%', 'mahoroba.ne.jp.xml'),
    ('mail.jubii.dk', 'imap', 'imap.jubii.dk', 993, 'ssl', '%EMAILADDRESS%',
     'smtp.jubii.dk', 465, 'ssl', '%EMAILADDRESS%', 'mail.jubii.dk.xml'),
    ('mail.wind.ne.jp', 'pop3', 'mail.wind.ne.jp', 110, 'none', '%EMAILLOCALPART%',
     'mail.wind.ne.jp', 587, 'none', '%EMAILLOCALPART%', 'mail.wind.ne.jp.xml'),
    ('messagingengine.com', 'imap', 'imap.fastmail.com', 993, 'ssl', '%EMAILADDRESS%',
     'smtp.fastmail.com', 465, 'ssl', '%EMAILADDRESS%', 'messagingengine.com.xml'),
    ('miomio.jp', 'pop3', 'mbox.iijmio-mail.jp', 110, 'starttls', '%EMAILLOCALPART%.%EMAILDOMAIN%',
     'mbox.iijmio-mail.jp', 587, 'starttls', '%EMAILLOCALPART%.%EMAILDOMAIN%', 'iijmio-mail.jp.xml'),
    ('mit.edu', 'imap', 'outlook.office365.com', 993, 'ssl', '%EMAILADDRESS%',
     'outgoing.mit.edu', 465, 'ssl', '%EMAILLOCALPART%', 'mit.edu.xml'),
    ('mopera.net', 'imap', 'mail.mopera.net', 993, 'ssl', '%EMAILLOCALPART%',
     'mail.mopera.net', 465, 'ssl', '%EMAILLOCALPART%', 'mopera.net.xml'),
    ('neuf.fr', 'imap', 'imap.sfr.fr', 993, 'ssl', '%EMAILADDRESS%',
     'smtp.sfr.fr', 465, 'ssl', '%EMAILADDRESS%', 'sfr.fr.xml'),
    ('nifty.com', 'pop3', 'pop.nifty.com', 110, 'none', '%EMAILLOCALPART%',
     'smtp.nifty.com', 587, 'none', '%EMAILLOCALPART%', 'nifty.com.xml'),
    ('nili.ca', 'imap', 'email.nili.email', 993, 'ssl', '%EMAILADDRESS%',
     'email.nili.email', 465, 'ssl', '%EMAILADDRESS%', 'nili.ca.xml'),
    ('one.com', 'imap', 'imap.one.com', 993, 'ssl', '%EMAILADDRESS%',
     'send.one.com', 465, 'ssl', '%EMAILADDRESS%', 'one.com.xml'),
    ('onet.eu', 'imap', 'imap.poczta.onet.pl', 993, 'ssl', '%EMAILADDRESS%',
     'smtp.poczta.onet.pl', 465, 'ssl', '%EMAILADDRESS%', 'onet.pl.xml'),
    ('ovh.net', 'imap', 'ssl0.ovh.net', 993, 'ssl', '%EMAILADDRESS%',
     'ssl0.ovh.net', 465, 'ssl', '%EMAILADDRESS%', 'ovh.net.xml'),
    ('pdx.edu', 'imap', 'psumail.pdx.edu', 993, 'ssl', '%EMAILADDRESS%',
     'mailhost.pdx.edu', 465, 'ssl', '%EMAILADDRESS%', 'pdx.edu.xml'),
    ('peoplepc.com', 'imap', 'imap.peoplepc.com', 143, 'none', '%EMAILADDRESS%',
     'smtpauth.peoplepc.com', 587, 'starttls', '%EMAILADDRESS%', 'peoplepc.com.xml'),
    ('pobox.com', 'imap', 'mail.pobox.com', 993, 'ssl', '%EMAILADDRESS%',
     'smtp.pobox.com', 465, 'ssl', '%EMAILADDRESS%', 'pobox.com.xml'),
    ('qq.com', 'imap', 'imap.qq.com', 993, 'ssl', '%EMAILADDRESS%',
     'smtp.qq.com', 465, 'ssl', '%EMAILADDRESS%', 'qq.com.xml'),
    ('sfr.fr', 'imap', 'imap.sfr.fr', 993, 'ssl', '%EMAILADDRESS%',
     'smtp.sfr.fr', 465, 'ssl', '%EMAILADDRESS%', 'sfr.fr.xml'),
    ('sky.com', 'imap', 'imap.tools.sky.com', 993, 'ssl', '%EMAILADDRESS%',
     'smtp.tools.sky.com', 465, 'ssl', '%EMAILADDRESS%', 'sky.com.xml'),
    ('tiscali.cz', 'pop3', 'pop3.mail.tiscali.cz', 110, 'none', '%EMAILADDRESS%',
     'smtp.mail.tiscali.cz', 25, 'none', '%EMAILADDRESS%', 'tiscali.cz.xml'),
    ('uol.com.br', 'pop3', 'pop3.uol.com.br', 995, 'ssl', '%EMAILLOCALPART%',
     'smtps.uol.com.br', 587, 'starttls', '%EMAILLOCALPART%', 'uol.com.br.xml'),
    ('virgin.net', 'imap', 'imap4.virgin.net', 993, 'ssl', '%EMAILADDRESS%',
     'smtp.virgin.net', 465, 'ssl', '%EMAILADDRESS%', 'virgin.net.xml'),
    ('websupport.sk', 'imap', 'imap.websupport.sk', 993, 'ssl', '%EMAILADDRESS%',
     'smtp.websupport.sk', 465, 'ssl', '%EMAILADDRESS%', 'websupport.sk.xml'),
]


def _resolve(template: str, local: str, domain: str) -> str:
    return (template.replace("%EMAILADDRESS%", f"{local}@{domain}").replace("%EMAILLOCALPART%", local)
            .replace("%EMAILDOMAIN%", domain))


def test_the_table_covers_fifty_domains_twenty_of_them_japanese():
    assert len(TABLE) >= 50
    assert sum(1 for row in TABLE if row[0].endswith(".jp")) >= 20


@pytest.mark.parametrize("row", TABLE, ids=[row[0] for row in TABLE])
def test_the_local_answer_equals_the_ispdb_entry_with_templates_resolved(row):
    domain, protocol, host, port, security, username, smtp_host, smtp_port, smtp_security, smtp_user, file = row
    detection = detect(f"taro.yamada@{domain}", protocol=protocol, network=False)

    assert detection.source == "ispdb" and detection.complete
    assert detection.incoming == {"protocol": protocol, "host": _resolve(host, "taro.yamada", domain).lower(),
                                  "port": port, "security": security,
                                  "username": _resolve(username, "taro.yamada", domain)}
    assert detection.outgoing == {"host": smtp_host, "port": smtp_port, "security": smtp_security,
                                  "username": _resolve(smtp_user, "taro.yamada", domain)}
    assert detection.candidates[0].evidence[0] == {"kind": "ispdb", "file": file, "domain": domain}


def test_the_bundle_is_indexed_by_every_domain_and_keeps_its_license():
    bundle = ispdb.read_folder(ispdb.BUNDLED_DIR)
    assert len(bundle.configs) == 163 and bundle.unreadable == {}
    assert len(bundle.by_domain) == 962  # cty-net.ne.jp is listed twice in its own file
    assert bundle.lookup("ocn.ad.jp").origin == "ocn.ne.jp.xml"  # a second <domain>, not the file name
    assert bundle.lookup("mail.protection.outlook.com").origin == "office365.com.xml"  # an MX domain
    assert bundle.lookup("oxcloud-eu") is None  # file names are not domains
    assert "Mozilla Public License" in (ispdb.BUNDLED_DIR / "LICENSE").read_text()


def test_the_known_errors_of_the_data_are_flagged():
    flagged = {(c.origin, s.protocol, s.port): s.flags for c in ispdb.bundle().configs for s in c.flagged}
    assert flagged == {
        ("arubapec.it.xml", "pop3", 993): ("port_of_other_protocol",),  # POP3 on the IMAPS port
        ("pdx.edu.xml", "imap", 587): ("port_of_other_protocol",),  # IMAP on the submission port
        ("rediffmail.com.xml", "smtp", 586): ("nonstandard_port",),  # a typo for 587
        ("charter.net.xml", "smtp", 587): ("security_mismatch",),  # implicit TLS on a STARTTLS port
    }


def test_a_flagged_server_is_listed_but_never_suggested_first():
    detection = detect("x@arubapec.it", protocol="pop3", network=False)
    top = detection.candidates[0]
    assert not top.flagged
    flagged = [c for c in detection.candidates if c.flagged]
    assert flagged and flagged[0].incoming.port == 993 and flagged[0].to_dict()["incoming"]["flags"] == [
        "port_of_other_protocol"]


def test_an_entry_whose_only_server_is_flagged_is_shown_with_a_warning_below_published_settings():
    xml = b"""<clientConfig version="1.1"><emailProvider id="typo.example"><domain>typo.example</domain>
      <incomingServer type="pop3"><hostname>pop.typo.example</hostname><port>993</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS</username><authentication>password-cleartext</authentication></incomingServer>
      </emailProvider></clientConfig>"""
    config = parse_config(xml, origin="typo.example.xml")
    assert config.incoming[0].flags == ("bad_placeholder", "port_of_other_protocol")


def test_placeholders_are_resolved_in_host_names_too():
    detection = detect("hanako@ml.shibata.ne.jp", protocol="pop3", network=False)
    assert detection.source == "ispdb"
    assert detection.incoming["host"] == "ml.shibata.ne.jp"  # <hostname>%EMAILDOMAIN%</hostname>
    assert detection.incoming["username"] == "hanako"


def test_exchange_only_servers_are_skipped_and_oauth2_only_entries_are_marked():
    config = ispdb.lookup("office365.com")
    assert set(config.ignored) == {"ews", "owa", "graph", "exchange"}
    assert all(server.oauth2_only for server in config.incoming)
    assert not any(server.oauth2_only for server in ispdb.lookup("gmail.com").incoming)  # OAuth2 first, then a password


@pytest.mark.parametrize(("data", "reason"), [
    (b"<clientConfig", "malformed"),
    (b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY e SYSTEM "file:///etc/passwd">]><clientConfig>&e;</clientConfig>',
     "forbidden_xml"),
    (b"<html><body>Not found</body></html>", "not_client_config"),
    (b'<clientConfig version="1.1"><emailProvider id="x"><domain>x.example</domain></emailProvider></clientConfig>',
     "no_servers"),
    (b"<clientConfig>" + b" " * (ispdb.MAX_FILE_BYTES + 1), "too_large"),
])
def test_unusable_files_are_refused_with_a_reason(data, reason):
    with pytest.raises(ConfigError) as error:
        parse_config(data)
    assert error.value.reason == reason
