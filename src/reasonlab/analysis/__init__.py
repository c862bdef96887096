"""Analysis of models: inference performance (``bench``), architecture costs from a configuration
(``inspect``) and MoE routing (``experts``).

Sits above ``inference`` and ``training`` and below ``runs`` and ``cli``.
"""
