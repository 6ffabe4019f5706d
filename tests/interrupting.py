"""A run context that stops right after its first checkpoint, like a kill (in-process, without os._exit):
the resume tests of the tasks compare an interrupted-then-resumed run with an uninterrupted one."""
from repro.runtime import RunContext


class Interrupted(Exception):
    pass


class InterruptingContext(RunContext):
    def save_checkpoint(self, state):
        super().save_checkpoint(state)
        raise Interrupted
