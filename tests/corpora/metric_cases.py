"""Tricky completions with the answer the grader extracts and whether it counts against the gold.

Each case: (name, completion, gold, expected extraction, expected verdict). Expected values were
worked out by hand from the grader's rules (COMPETITION.md), not by running the code under test.
"""

B = "\\boxed{"

CASES = [
    # --- one box -------------------------------------------------------------------------------
    ("plain box", f"so {B}42}}", "42", "42", True),
    ("box with spaces inside", f"{B}  LXVII  }}", "LXVII", "LXVII", True),
    ("box lower-case roman", f"{B}lxvii}}", "LXVII", "lxvii", True),
    ("box at very end, unclosed", f"answer: {B}10110", "10110", "10110", True),
    ("unclosed box then text", f"{B}abc def", "abc def", "abc def", True),
    ("nested braces kept", f"{B}\\frac{{1}}{{2}}}}", "\\frac{1}{2}", "\\frac{1}{2}", True),
    ("double closing brace keeps one", f"{B}42}}}}", "42}", "42}", True),
    ("brace inside answer", f"{B}17}}/}}", "17}/", "17}/", True),
    ("backslash inside answer", f"{B}\\(}}", "\\(", "\\(", True),
    ("backtick answer", f"{B}`!'}}", "`!'", "`!'", True),
    ("text after box with brace", f"{B}ab}} and then }} more", "ab", "ab} and then", False),
    ("box then trailing prose without brace", f"{B}7}} done.", "7", "7", True),
    ("multiline content", f"{B}a\nb}}", "a\nb", "a\nb", True),
    ("box content only spaces", f"{B}   }}", "x", "", False),
    ("empty box", f"{B}}}", "x", "", False),
    # --- several boxes ---------------------------------------------------------------------------
    ("last box wins", f"{B}1}} then {B}2}}", "2", "2", True),
    ("last box wins over gold first", f"{B}1}} then {B}2}}", "1", "2", False),
    ("empty last box falls back to last non-empty", f"{B}5}} and {B}}}", "5", "5", True),
    ("all boxes empty gives empty", f"{B}}} {B} }}", "5", "", False),
    ("first box runs up to next box", f"{B}a}} x }} {B}}}", "a} x", "a} x", True),
    ("box inside think then final", f"<think>try {B}3}}</think> final {B}4}}", "4", "4", True),
    ("three boxes middle empty", f"{B}1}}{B}}}{B}3}}", "3", "3", True),
    ("box words example echo", f"For example: `{B}your answer}}` ... {B}XIV}}", "XIV", "XIV", True),
    ("echo of the instruction only", f"Please put it in `{B}your answer}}`", "XIV", "your answer", False),
    # --- final-answer patterns ---------------------------------------------------------------------
    ("the final answer is", "The final answer is: 12.5\nthanks", "12.5", "12.5", True),
    (
        "final answer is, lower case",
        "the final answer is:   hello world  \n",
        "hello world",
        "hello world",
        True,
    ),
    ("final answer colon", "Final answer: LXX", "LXX", "LXX", True),
    ("final answer full-width colon", "Final answer： 01010101", "01010101", "01010101", True),
    ("final answer no space", "final answer:7", "7", "7", True),
    ("final answer crosses newline", "Final answer:\n  99\n", "99", "99", True),
    ("first pattern wins over later pattern", "The final answer is: A\nFinal answer: B", "A", "A", True),
    ("last occurrence of winning pattern", "The final answer is: A\nThe final answer is: C", "C", "C", True),
    ("pattern 1 beats later pattern 3 occurrence", "Final answer: X\nThe final answer is: Y", "Y", "Y", True),
    ("final answer is without 'the'", "Final answer is: 3.14", "3.14", "3.14", True),
    ("box beats final answer", f"Final answer: 1\n{B}2}}", "2", "2", True),
    # --- last number ---------------------------------------------------------------------------
    ("last number", "I think 3 then 4.5 maybe", "4.5", "4.5", True),
    ("negative number", "it is -7", "-7", "-7", True),
    ("number with trailing dot", "value 12.", "12", "12", True),
    ("last number inside word", "abc123def", "123", "123", True),
    ("binary string read as number", "answer 00101", "00101", "00101", True),
    ("bits with spaces -> last group", "0010 1101", "00101101", "1101", False),
    # --- last line / not found -------------------------------------------------------------------
    ("last non-empty line", "first\nsecond line\n\n", "second line", "second line", True),
    ("last line stripped", "x\n   the wise king   \n", "the wise king", "the wise king", True),
    ("empty completion", "", "x", "NOT_FOUND", False),
    ("whitespace completion", "  \n \n", "x", "NOT_FOUND", False),
    ("None completion", None, "x", "NOT_FOUND", False),
    # --- comparison: binary strings ----------------------------------------------------------------
    ("binary exact", f"{B}01101100}}", "01101100", "01101100", True),
    ("binary not float-tolerant", f"{B}01101101}}", "01101100", "01101101", False),
    ("binary gold, prediction with leading zero dropped", f"{B}1101100}}", "01101100", "1101100", False),
    ("binary gold with whitespace", f"{B} 0110 }}", "0110", "0110", True),
    ("binary gold against float-equal text", f"{B}10.0}}", "10", "10.0", False),
    # --- comparison: floats ----------------------------------------------------------------------
    ("float within 1%", f"{B}201.9}}", "200", "201.9", True),
    ("float just outside 1%", f"{B}203.5}}", "200", "203.5", False),
    ("binary-looking gold needs exact match", f"{B}100.0}}", "100", "100.0", False),
    ("float rounding difference", f"{B}16.66}}", "16.65", "16.66", True),
    ("float trailing zero", f"{B}8.9}}", "8.90", "8.9", True),
    ("float zero abs tolerance", f"{B}0.000001}}", "0.0", "0.000001", True),
    ("float zero outside abs tolerance", f"{B}0.001}}", "0.0", "0.001", False),
    ("float with units is a string", f"{B}16.65 m}}", "16.65", "16.65 m", False),
    ("scientific notation parses", f"{B}2e2}}", "200", "2e2", True),
    ("integer vs float", f"{B}42.0}}", "42", "42.0", True),
    # --- comparison: strings ---------------------------------------------------------------------
    ("case-insensitive words", f"{B}The Wise King}}", "the wise king", "The Wise King", True),
    ("inner whitespace matters", f"{B}the  wise king}}", "the wise king", "the  wise king", False),
    ("roman case-insensitive", f"{B}xiv}}", "XIV", "xiv", True),
    ("symbol answer exact", f"{B}>$$>}}", ">$$>", ">$$>", True),
    ("symbol answer different", f"{B}>$>}}", ">$$>", ">$>", False),
    ("answer containing closing brace", f"{B}+}}}}", "+}", "+}", True),
]

# The pre-May-2026 extraction: content up to the FIRST '}' (regex \\boxed\{([^}]*)(?:\}|$)).
LEGACY_CASES = [
    ("legacy stops at first brace", f"{B}17}}/}}", "17"),
    ("legacy double brace", f"{B}42}}}}", "42"),
    ("legacy last non-empty box", f"{B}5}} and {B}}}", "5"),
    ("legacy nested fraction cut", f"{B}\\frac{{1}}{{2}}}}", "\\frac{1"),
    ("legacy unclosed at end", f"{B}abc", "abc"),
]
