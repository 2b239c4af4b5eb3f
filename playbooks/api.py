"""JSON API for playbook data: playbooks with their stages and steps, enrolments, tasks,
activities (read), and the activity ingestion batch. Rows come from playbooks/visibility.py and
every change goes through the same services as the builder pages.
"""

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from abm.api_errors import ApiError
from abm.api_resources import ScopedReadOnlyViewSet, ScopedViewSet, service_errors
from abm.api_schema import ErrorSerializer
from abm.lib.permissions import user_role
from abm.models import Role
from playbooks import building, lifecycle
from playbooks.api_serializers import (
    CloneSerializer,
    EnrolmentSerializer,
    EnrolRequestSerializer,
    EnrolResultSerializer,
    MoveSerializer,
    PlaybookSerializer,
    StageSerializer,
    StepSerializer,
    TaskCompletedSerializer,
    TaskCompleteSerializer,
    TaskSerializer,
)
from playbooks.enrolment import enrol_accounts, enrol_audience, unenrol
from playbooks.filtersets import (
    EnrolmentFilter,
    PlaybookFilter,
    StageFilter,
    StepFilter,
    TaskFilterSet,
)
from playbooks.models import EnrolmentStatus, Stage, Step, TaskStatus
from playbooks.task_completion import TaskNotOpen, task_complete, task_skip
from playbooks.visibility import (
    enrolments_visible_to,
    playbooks_visible_to,
    stages_visible_to,
    steps_visible_to,
    tasks_visible_to,
)

# Who changes playbooks and enrolments (DOMAIN.md): directors and reps only read them.
EDIT_ROLES = (Role.MARKETER, Role.ADMIN)
# Who works tasks: reps their own, marketers and admins anyone's; directors only read.
TASK_ROLES = (Role.SALES, Role.MARKETER, Role.ADMIN)


def _described(noun: str, plural: str, extra: str = "", destroy: str = ""):
    return extend_schema_view(
        list=extend_schema(description=f"The {plural} you may see, filtered and paginated.{extra}"),
        retrieve=extend_schema(description=f"One {noun}; 404 when you may not see it."),
        create=extend_schema(description=f"Create a {noun} (marketers and admins)."),
        update=extend_schema(description=f"Replace a {noun}'s writable fields."),
        partial_update=extend_schema(description=f"Change some of a {noun}'s fields."),
        destroy=extend_schema(description=destroy or f"Delete a {noun}."),
    )


def _playbooks_with_plan(user):
    # Stages and steps in two queries for the whole page, in the builder's order.
    return playbooks_visible_to(user).prefetch_related(
        Prefetch("stages", queryset=Stage.objects.order_by("order", "id")),
        Prefetch("stages__steps", queryset=Step.objects.order_by("order", "id")),
    )


def _status_action(description: str):
    return extend_schema(
        request=None,
        responses={200: PlaybookSerializer, 400: ErrorSerializer},
        description=description,
    )


@_described(
    "playbook",
    "playbooks",
    " Each carries its stages and their steps, in order; every signed-in user may read them.",
    destroy="Delete a draft playbook (with its plan and enrolments). An active, paused or "
    "archived playbook is a 400: archive it instead, so its results stay in the metrics.",
)
class PlaybookViewSet(ScopedViewSet):
    scope = staticmethod(_playbooks_with_plan)
    serializer_class = PlaybookSerializer
    filterset_class = PlaybookFilter
    ordering_fields = ["name", "created_at", "updated_at", "id"]
    ordering = ["name", "id"]
    write_roles = EDIT_ROLES

    def perform_destroy(self, instance):
        with service_errors():
            lifecycle.playbook_delete(playbook=instance, by=self.request.user)

    def _transition(self, change):
        playbook = self.get_object()
        with service_errors():
            change(playbook=playbook, by=self.request.user)
        return Response(self.get_serializer(self._fresh(playbook.pk)).data)

    def _fresh(self, pk):
        return _playbooks_with_plan(self.request.user).get(pk=pk)

    @_status_action(
        "Start a draft or resume a paused playbook; 400 listing what is missing from its plan."
    )
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        return self._transition(lifecycle.playbook_activate)

    @_status_action("Pause an active playbook: no new tasks; enrolments and open tasks stay.")
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._transition(lifecycle.playbook_pause)

    @_status_action("Archive the playbook for good: read-only, still counted in the metrics.")
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        return self._transition(lifecycle.playbook_archive)

    @extend_schema(
        request=CloneSerializer,
        responses={201: PlaybookSerializer, 400: ErrorSerializer},
        description="A draft copy of the plan (details, audience, stages, steps); enrolments "
        "and the goal stay behind.",
    )
    @action(detail=True, methods=["post"])
    def clone(self, request, pk=None):
        playbook = self.get_object()
        body = CloneSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        copy = lifecycle.playbook_clone(
            playbook=playbook, by=request.user, name=body.validated_data.get("name")
        )
        return Response(
            self.get_serializer(self._fresh(copy.pk)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request=EnrolRequestSerializer,
        responses={200: EnrolResultSerializer, 400: ErrorSerializer},
        description='Enrol accounts: {"accounts": [ids]} (each one you may see; 400 naming '
        'those you may not) or {"audience": true} (every account of the audience you may see). '
        "Accounts enrolled already are counted, not enrolled twice; a share drawn at random "
        "becomes the holdout. `warning` says when either group stays below 30 accounts (no "
        "holdout lift can be measured) and which holdout share would reach it; the tasks due now "
        "are created by the background job `tasks_run`.",
        examples=[
            OpenApiExample("Two accounts", value={"accounts": [42, 43]}, request_only=True),
            OpenApiExample("The audience", value={"audience": True}, request_only=True),
            OpenApiExample(
                "Enrolled",
                value={
                    "enrolled": 18,
                    "holdout": 2,
                    "already": 3,
                    "seed": 1234567,
                    "warning": "Enrolling 20 accounts leaves 18 enrolled and 2 held out: ...",
                    "tasks_run": 812,
                },
                response_only=True,
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def enrol(self, request, pk=None):
        playbook = self.get_object()
        body = EnrolRequestSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        accounts = body.validated_data.get("accounts")
        with service_errors():
            if accounts is None:
                result = enrol_audience(playbook=playbook, by=request.user)
            else:
                if problem := building.edit_problem(playbook):
                    raise ApiError(code="locked", message=problem)
                result = enrol_accounts(playbook=playbook, account_ids=accounts, by=request.user)
        return Response(EnrolResultSerializer(result).data)


@_described(
    "stage",
    "stages",
    " A stage belongs to a playbook; order is set by adding and moving.",
    destroy="Remove a stage and its steps; 400 while enrolled accounts are in it.",
)
class StageViewSet(ScopedViewSet):
    serializer_class = StageSerializer
    filterset_class = StageFilter
    ordering_fields = ["order", "id"]
    ordering = ["playbook_id", "order", "id"]
    write_roles = EDIT_ROLES

    @staticmethod
    def scope(user):
        return stages_visible_to(user).select_related("playbook")

    def perform_destroy(self, instance):
        with service_errors():
            building.stage_remove(stage=instance, by=self.request.user)

    @extend_schema(
        request=MoveSerializer,
        responses={200: StageSerializer, 400: ErrorSerializer},
        description="Swap the stage with its neighbour above or below (at either end nothing "
        "changes).",
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        stage = self.get_object()
        body = MoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with service_errors():
            stage = building.stage_move(
                stage=stage, by=request.user, direction=body.validated_data["direction"]
            )
        return Response(self.get_serializer(stage).data)


@_described(
    "step",
    "steps",
    " Subjects and bodies are templates with merge fields; an unknown field is a 400.",
    destroy="Remove a step; tasks already made from it keep their text.",
)
class StepViewSet(ScopedViewSet):
    serializer_class = StepSerializer
    filterset_class = StepFilter
    ordering_fields = ["order", "day_offset", "id"]
    ordering = ["stage_id", "order", "id"]
    write_roles = EDIT_ROLES

    @staticmethod
    def scope(user):
        return steps_visible_to(user).select_related("stage__playbook")

    def perform_destroy(self, instance):
        with service_errors():
            building.step_remove(step=instance, by=self.request.user)

    @extend_schema(
        request=MoveSerializer,
        responses={200: StepSerializer, 400: ErrorSerializer},
        description="Swap the step with its neighbour inside its stage (at either end nothing "
        "changes); day offsets stay.",
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        step = self.get_object()
        body = MoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with service_errors():
            step = building.step_move(
                step=step, by=request.user, direction=body.validated_data["direction"]
            )
        return Response(self.get_serializer(step).data)


# --- Enrolments, tasks, activities ------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        description="The enrolments you may see (a rep: those of their own accounts), "
        "filtered and paginated."
    ),
    retrieve=extend_schema(description="One enrolment; 404 when you may not see it."),
    create=extend_schema(
        description="Enrol one account in a playbook (marketers and admins). As with a batch, "
        "the playbook's holdout share decides at random whether it is held out."
    ),
    destroy=extend_schema(
        description="Unenrol: the enrolment stays, with status exited, and its open tasks are "
        "skipped. Unenrolling an exited enrolment again changes nothing; a completed one is a 400."
    ),
)
class EnrolmentViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, ScopedReadOnlyViewSet):
    scope = staticmethod(enrolments_visible_to)
    serializer_class = EnrolmentSerializer
    filterset_class = EnrolmentFilter
    ordering_fields = ["enrolled_at", "entered_stage_at", "id"]
    ordering = ["-enrolled_at", "-id"]
    write_roles = EDIT_ROLES

    def perform_destroy(self, instance):
        if instance.status == EnrolmentStatus.COMPLETED:
            raise ApiError(
                code="completed",
                message=f"Enrolment {instance.pk} has completed the playbook; there is nothing "
                "to leave.",
            )
        if instance.status != EnrolmentStatus.EXITED:
            unenrol(enrolment=instance)


def _task_action(description: str, request, response):
    return extend_schema(
        request=request,
        responses={200: response, 400: ErrorSerializer, 403: ErrorSerializer},
        description=description,
    )


@extend_schema_view(
    list=extend_schema(
        description="The tasks you may see (a rep: those on their own accounts), filtered and "
        "paginated; `assignee=<your id>&status=open` is your to-do list."
    ),
    retrieve=extend_schema(description="One task; 404 when you may not see it."),
)
class TaskViewSet(ScopedReadOnlyViewSet):
    serializer_class = TaskSerializer
    filterset_class = TaskFilterSet
    ordering_fields = ["due_at", "created_at", "completed_at", "id"]
    ordering = ["due_at", "id"]
    write_roles = TASK_ROLES

    @staticmethod
    def scope(user):
        return tasks_visible_to(user).select_related("enrolment")

    def _actionable(self):
        task = self.get_object()
        user = self.request.user
        # As on the task list: a rep works the tasks assigned to them, not others' on their
        # accounts (a marketing step's task is the playbook owner's).
        if user_role(user) == Role.SALES and task.assignee_id != user.pk:
            raise ApiError(
                code="permission_denied",
                message=f"Task {task.pk} is assigned to someone else; you may act only on yours.",
                status_code=status.HTTP_403_FORBIDDEN,
            )
        return task

    @_task_action(
        "Mark the task done and record what was done on the account's timeline (once: "
        "completing it again changes nothing). A skipped task cannot be completed.",
        TaskCompleteSerializer,
        TaskCompletedSerializer,
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        task = self._actionable()
        body = TaskCompleteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if task.status == TaskStatus.SKIPPED:
            raise ApiError(code="skipped", message="This task was skipped; it cannot be completed.")
        try:
            activity = task_complete(
                task=task, by=request.user, notes=body.validated_data.get("notes", "").strip()
            )
        except TaskNotOpen as error:  # skipped by someone else since the check above
            raise ApiError(code="skipped", message=" ".join(error.messages)) from error
        task.refresh_from_db()
        return Response(
            TaskCompletedSerializer(
                {"task": task, "activity": activity}, context=self.get_serializer_context()
            ).data
        )

    @_task_action(
        "Skip an open task (skipping it again changes nothing); a done task cannot be skipped.",
        None,
        TaskSerializer,
    )
    @action(detail=True, methods=["post"])
    def skip(self, request, pk=None):
        task = self._actionable()
        if task.status == TaskStatus.DONE:
            raise ApiError(code="done", message="This task is done; it cannot be skipped.")
        task_skip(task=task, by=request.user)
        task.refresh_from_db()
        return Response(self.get_serializer(task).data)
