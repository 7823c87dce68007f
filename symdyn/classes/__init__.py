"""Worst cases over classes of functions: IQC rate certificates and performance estimation.

Function classes, the linear system of a method in feedback with the gradient, rate
certificates verified in exact arithmetic, and performance estimation (PEPit).
"""
