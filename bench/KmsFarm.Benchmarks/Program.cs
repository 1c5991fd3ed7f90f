using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(KmsFarm.Benchmarks.KmsServerBenchmarks).Assembly).Run(args);
