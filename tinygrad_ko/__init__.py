"""tinygrad_ko: a small, fast and honest autograd framework on NumPy, for chapters 4 and 5 of
"Deep Learning from Scratch" (밑바닥부터 시작하는 딥러닝)."""

__version__ = "0.1.0"
