namespace FaceIndex.Gpu.Tests;

/// <summary>One GPU scanner on ILGPU's CPU accelerator for the test class (compiling its kernels takes a moment).</summary>
public sealed class ScannerFixture : IDisposable
{
    public GpuExactScanner Scanner { get; } = GpuExactScanner.CreateCpuAccelerator();

    public void Dispose() => Scanner.Dispose();
}
