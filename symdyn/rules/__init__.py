"""Update rules: the rule, exact numbers and signs, the rule-file grammar, parser and printing.

The first floor of the data flow: everything else reads rules, nothing here reads
an analysis.
"""
