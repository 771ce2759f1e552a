"""The notes' equations, executable: closed forms named by their labels, and their checks.

The closed forms (``fc``, ``conv``, ``batchnorm``, ``gradient_descent``, ``perceptron``,
``probability``, ``linear_stack``) are numpy written straight from the notes; they never
import the tape's ops, or the comparison would prove nothing. The ``checks_*`` modules
compare them with the tape's gradients and with central differences, and register each
under the notes' label.

>>> from tinygrad_notes import equations
>>> entry = equations.lookup("BP1")
>>> entry.section
'3.1'
>>> entry.check().passed
True
"""

from .registry import CheckResult, Entry, all_checks, labels, lookup, normalize

__all__ = ["CheckResult", "Entry", "all_checks", "labels", "lookup", "normalize"]
