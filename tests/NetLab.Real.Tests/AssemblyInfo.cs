// The real-peer tests move 100 MB through tap0 and report the throughput: one at a time, so that the
// figures are not shared with another test's transfer (the suite is a few seconds either way).
[assembly: CollectionBehavior(DisableTestParallelization = true)]
