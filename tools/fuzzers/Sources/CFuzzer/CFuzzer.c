// Header-only: LLVMFuzzerRunDriver is defined by libFuzzer.
