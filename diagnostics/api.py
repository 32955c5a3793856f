"""API views of diagnostics: thin; the services decide, the serializers shape."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from config.pagination import StandardPagination
from diagnostics import judge, selectors, services
from diagnostics.models import DiagnosticRun, DiagnosticStep


class StepOutput(serializers.ModelSerializer):
    message = serializers.SerializerMethodField()

    class Meta:
        model = DiagnosticStep
        fields = ["name", "status", "code", "message", "duration_ms", "details"]

    def get_message(self, step: DiagnosticStep) -> str:
        # Rendered in the reader's language (the stored message is the English record).
        return str(judge.step_message(name=step.name, status=step.status, code=step.code, details=step.details))


class AdviceOutput(serializers.Serializer):
    code = serializers.CharField()
    scenario = serializers.CharField(allow_null=True)
    title = serializers.CharField()
    steps = serializers.ListField(child=serializers.CharField())


class RunOutput(serializers.ModelSerializer):
    steps = StepOutput(many=True, read_only=True)
    advice = serializers.SerializerMethodField()
    account = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)  # none for a tool's run

    class Meta:
        model = DiagnosticRun
        fields = ["id", "kind", "status", "outcome", "account", "target", "steps", "advice", "created_at",
                  "started_at", "finished_at"]

    @extend_schema(responses=AdviceOutput(many=True))
    def get_advice(self, run: DiagnosticRun) -> list[dict]:
        return judge.run_advice(run)


class _PostThrottled:
    throttle_scope = "diagnostics"

    def get_throttles(self):
        return [ScopedRateThrottle()] if self.request.method == "POST" else []


class RunPagination(StandardPagination):
    # A run carries its steps with their transcripts: a smaller page keeps a list response small.
    page_size = 10
    max_page_size = 50


class AccountDiagnosticsView(_PostThrottled, ListAPIView):
    """GET: the account's runs, newest first. POST: start a run (202); a run in flight is returned as it is."""

    serializer_class = RunOutput
    pagination_class = RunPagination
    error_statuses = {"get": (403,), "post": (409, 429, 503)}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no signed-in user
            return DiagnosticRun.objects.none()
        return selectors.diagnostic_run_list_for_account(actor=self.request.user, account_id=self.kwargs["pk"])

    @extend_schema(request=None, responses={202: RunOutput})
    def post(self, request: Request, pk: int) -> Response:
        run, _created = services.diagnostic_run_start(actor=request.user, account_id=pk)
        return Response(RunOutput(run).data, status=status.HTTP_202_ACCEPTED)


class RunDetailView(APIView):
    error_statuses = {"get": (403,)}

    @extend_schema(responses=RunOutput)
    def get(self, request: Request, pk: int) -> Response:
        return Response(RunOutput(selectors.diagnostic_run_get(actor=request.user, run_id=pk)).data)


class PortCheckInput(serializers.Serializer):
    host = serializers.CharField(max_length=253)
    port = serializers.IntegerField(min_value=1, max_value=65535)


class DomainDetailsInput(serializers.Serializer):
    domain = serializers.CharField(max_length=254)


class PortCheckView(_PostThrottled, APIView):
    throttle_scope = "tools"
    error_statuses = {"post": (429, 503)}

    @extend_schema(request=PortCheckInput, responses={202: RunOutput})
    def post(self, request: Request) -> Response:
        data = PortCheckInput(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.tool_port_check_start(actor=request.user, **data.validated_data)
        return Response(RunOutput(run).data, status=status.HTTP_202_ACCEPTED)


class DomainDetailsView(_PostThrottled, APIView):
    throttle_scope = "tools"
    error_statuses = {"post": (429, 503)}

    @extend_schema(request=DomainDetailsInput, responses={202: RunOutput})
    def post(self, request: Request) -> Response:
        data = DomainDetailsInput(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.tool_domain_details_start(actor=request.user, **data.validated_data)
        return Response(RunOutput(run).data, status=status.HTTP_202_ACCEPTED)


class SentTestPreviewOutput(serializers.Serializer):
    account = serializers.IntegerField()
    sender = serializers.CharField(source="from")
    to = serializers.CharField()
    subject = serializers.CharField()
    body = serializers.CharField()
    headers = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    note = serializers.CharField()


class SentTestView(APIView):
    """GET: exactly what "Send a test message" will send (the Message-ID and date are filled in when sent).
    POST: send it (202), count its copies in Sent, delete the test messages. Never part of the periodic re-check."""

    throttle_scope = "sent_test"
    error_statuses = {"get": (403, 409), "post": (409, 429, 503)}

    def get_throttles(self):
        return [ScopedRateThrottle()] if self.request.method == "POST" else []

    @extend_schema(responses=SentTestPreviewOutput)
    def get(self, request: Request, pk: int) -> Response:
        return Response(SentTestPreviewOutput(selectors.sent_test_preview(actor=request.user, account_id=pk)).data)

    @extend_schema(request=None, responses={202: RunOutput})
    def post(self, request: Request, pk: int) -> Response:
        run = services.sent_test_start(actor=request.user, account_id=pk)
        return Response(RunOutput(run).data, status=status.HTTP_202_ACCEPTED)
