"""The Open Inference Protocol (KServe V2, as Triton speaks it) under ``/v2``, binary data too."""
