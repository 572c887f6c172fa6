"""The exam's errors: every one is a readable, one-line message for the CLI."""


class ExamError(RuntimeError):
    """A readable problem with the exam (a missing key, a tampered seal, a bad agent...)."""


class FinalAlreadyTaken(ExamError):
    """This agent, or this seal, already sat the final; a repeat needs a logged reason."""
