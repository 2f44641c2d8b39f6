using BenchmarkDotNet.Running;

namespace FaceIndex.Benchmarks;

/// <summary>
/// Entry point. With no "scale" verb, runs BenchmarkDotNet micro-benchmarks (pick with --filter);
/// scale benchmarks (1M vectors, load tests) are console programs selected by their verb.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && ScaleBenchmarks.TryRun(args, out int exitCode))
        {
            return exitCode;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
