"""Who may see and do what: the pure rules, and the password hashes behind logins."""

from __future__ import annotations

import pytest

from dispatch.auth import (
    Action,
    OrderScope,
    User,
    hash_password,
    may_assign,
    may_see,
    refusal,
    token_digest,
    verify_password,
)

ORDER_IN_A1 = OrderScope(grid_id="g-a1", community_id="c-a", assignee_id="gw-a1")
ORDER_IN_B1 = OrderScope(grid_id="g-b1", community_id="c-b", assignee_id=None)

OPERATOR = User("op", "op", "operator", "d")
ADMIN = User("ad", "ad", "admin", "d")
TESTER = User("t", "t", "tester", "d")
MANAGER_A = User("pm-a", "pm", "property_manager", "c-a")
WORKER_A1 = User("gw-a1", "gw", "grid_worker", "g-a1")
WORKER_A2 = User("gw-a2", "gw", "grid_worker", "g-a2")
DEPARTMENT = User("dept", "dept", "department", "d")
APP_KEY = User(None, "report-form", "client", None, token_id=7)


@pytest.mark.parametrize(
    ("user", "sees_a1", "sees_b1"),
    [
        (OPERATOR, True, True),
        (ADMIN, True, True),
        (TESTER, True, True),
        (MANAGER_A, True, False),
        (WORKER_A1, True, False),
        (WORKER_A2, False, False),
        (DEPARTMENT, False, False),
        (APP_KEY, False, False),
    ],
    ids=lambda v: v.role if isinstance(v, User) else None,
)
def test_each_role_sees_its_own_area(user: User, sees_a1: bool, sees_b1: bool) -> None:
    assert may_see(user, ORDER_IN_A1) is sees_a1
    assert may_see(user, ORDER_IN_B1) is sees_b1


def test_an_order_assigned_to_someone_is_visible_to_them_wherever_it_is() -> None:
    handed_over = OrderScope("g-b1", "c-b", assignee_id="dept")
    assert may_see(DEPARTMENT, handed_over)
    assert refusal(DEPARTMENT, Action.RESOLVE, handed_over) is None


def test_grid_workers_do_the_work_but_do_not_verify_or_dispatch() -> None:
    for action in (Action.ACCEPT, Action.START, Action.RESOLVE, Action.COMMENT, Action.REPORT):
        assert refusal(WORKER_A1, action, ORDER_IN_A1) is None
    for action in (Action.VERIFY, Action.CLOSE, Action.DISPATCH, Action.REOPEN):
        assert refusal(WORKER_A1, action, ORDER_IN_A1) == (
            f"a grid_worker may not {action} work orders"
            " (allowed: accept, comment, read, report, resolve, start)"
        )


def test_testers_and_app_keys_change_nothing() -> None:
    assert refusal(TESTER, Action.CLOSE, ORDER_IN_A1) is not None
    assert refusal(TESTER, Action.COMMENT, ORDER_IN_A1) is None
    assert refusal(APP_KEY, Action.READ, ORDER_IN_A1) is not None
    assert refusal(APP_KEY, Action.REPORT, ORDER_IN_A1) is None


def test_a_manager_hands_orders_only_to_people_of_their_own_community() -> None:
    assert may_assign(MANAGER_A, "g-a2", "c-a")
    assert may_assign(MANAGER_A, "c-a", "c-a")
    assert not may_assign(MANAGER_A, "g-b1", "c-b")
    assert may_assign(OPERATOR, "g-b1", "c-b")
    assert not may_assign(WORKER_A1, "g-a1", "c-a")


def test_a_password_hash_checks_the_password_and_nothing_else() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$16384$8$1$") and "correct horse" not in stored
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horsf", stored)
    assert hash_password("correct horse") != stored  # a fresh salt each time
    assert not verify_password("correct horse", "plain-text")
    assert not verify_password("correct horse", "bcrypt$1$2$3$00$00")


def test_tokens_are_kept_only_as_digests() -> None:
    assert token_digest("demo-op-01") == token_digest("demo-op-01")
    assert len(token_digest("demo-op-01")) == 64 and "demo" not in token_digest("demo-op-01")


def test_only_roles_that_do_the_work_can_be_given_an_order() -> None:
    from dispatch.auth import assignee_refusal

    for role in ("grid_worker", "department", "property_manager", "operator", "admin"):
        assert assignee_refusal("someone", role) is None, role
    assert "a tester" in (assignee_refusal("tester-01", "tester") or "")
