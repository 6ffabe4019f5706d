"""Network architectures (one file per family): DCGAN of 003 Tables S1/S2 in :mod:`repro.core.nets.dcgan`."""
