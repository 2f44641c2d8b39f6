using FaceIndex.Index;
using Microsoft.Extensions.Logging;

namespace FaceIndex.Gpu.Tests;

/// <summary>
/// The choice of scanner. These tests run where no CUDA device is present (CI, the CPU
/// machines); on a machine with one, the "auto" test checks that the device was chosen instead.
/// </summary>
public sealed class SelectionTests
{
    [Fact]
    public void Auto_uses_the_cpu_without_a_device_and_logs_why()
    {
        var log = new ListLogger();
        var scanner = ExactScanners.Select(ScanDevice.Auto, 2, log);
        try
        {
            var line = Assert.Single(log.Lines);
            Assert.Equal(LogLevel.Information, line.Level);
            if (scanner is GpuExactScanner gpu)
            {
                Assert.True(gpu.IsCuda);
                Assert.StartsWith("Exact scans on CUDA: ", line.Message, StringComparison.Ordinal);
                return;
            }

            var cpu = Assert.IsType<CpuExactScanner>(scanner);
            Assert.Equal(2, cpu.Threads);
            Assert.StartsWith("Exact scans on CPU, 2 threads: ", line.Message, StringComparison.Ordinal);
            Assert.Contains(": CUDA unavailable: ", line.Message, StringComparison.Ordinal);
        }
        finally
        {
            (scanner as IDisposable)?.Dispose();
        }
    }

    [Fact]
    public void Cpu_when_configured_never_touches_the_device()
    {
        var log = new ListLogger();
        var scanner = ExactScanners.Select(ScanDevice.Cpu, 0, log);

        Assert.IsType<CpuExactScanner>(scanner);
        Assert.Equal($"Exact scans on CPU, {Environment.ProcessorCount} threads: configured (ExactScan device = cpu)", Assert.Single(log.Lines).Message);
    }

    [Fact]
    public void Cuda_when_configured_but_absent_is_an_error_that_says_why()
    {
        using var probe = GpuExactScanner.TryCreateCuda(out string reason);
        if (probe is not null)
        {
            // A CUDA machine: the configured device is used (covered by the auto test).
            return;
        }

        var ex = Assert.Throws<InvalidOperationException>(() => ExactScanners.Select(ScanDevice.Cuda, 0, new ListLogger()));
        Assert.Equal($"Exact scans were configured on CUDA, which is unavailable: {reason}.", ex.Message);
        Assert.StartsWith("CUDA unavailable: ", reason, StringComparison.Ordinal);
    }

    private sealed class ListLogger : ILogger
    {
        public List<(LogLevel Level, string Message)> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add((logLevel, formatter(state, exception)));
    }
}
