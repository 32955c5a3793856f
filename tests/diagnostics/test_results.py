"""Step results are plain, JSON-safe data."""

import json

from django.utils.translation import gettext_lazy as _

from diagnostics.results import Code, Step, StepResult, plain
from mailsettings.vocabulary import Security


def test_plain_turns_enums_collections_and_lazy_text_into_json_data():
    value = {"code": Code.OK, Step.TLS: (Security.SSL, frozenset([1])), "note": _("No action is needed."),
             "n": 3, "none": None}
    assert plain(value) == {"code": "ok", "tls": ["ssl", [1]], "note": "No action is needed.", "n": 3,
                            "none": None}


def test_a_step_result_serializes_to_json():
    step = StepResult(step=Step.PORT, details={"security": Security.STARTTLS, "message": _("No action is needed.")})
    assert json.loads(json.dumps(step.to_dict()))["details"] == {"security": "starttls",
                                                                 "message": "No action is needed."}
