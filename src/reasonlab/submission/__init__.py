"""Submission: pack a PEFT adapter into the grader's submission.zip, convert layouts, check offline."""
