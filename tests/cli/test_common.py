import io

from slbsync.apply.report import ChangeResult, Outcome
from slbsync.cli.common import print_progress, progress_for
from slbsync.diff.changes import Change, ChangeOp, ResourceAddress, ResourceKind


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_only_on_a_terminal():
    assert progress_for(io.StringIO()) is None
    assert progress_for(Terminal()) is print_progress


def test_progress_line_names_change_call_and_outcome(capsys):
    address = ResourceAddress("cloud", "chat-gateway", ResourceKind.LISTENER, "tcp/443")
    change = Change(ChangeOp.UPDATE, address, "SetLoadBalancerTCPListenerAttribute")

    print_progress(3, 12, ChangeResult(change, Outcome.OK))

    assert capsys.readouterr().err == (
        "[3/12] ~ chat-gateway listener tcp/443 "
        "SetLoadBalancerTCPListenerAttribute ... ok\n"
    )
