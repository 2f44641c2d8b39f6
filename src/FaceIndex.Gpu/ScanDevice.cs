namespace FaceIndex.Gpu;

/// <summary>Where exact scans run.</summary>
public enum ScanDevice
{
    /// <summary>A CUDA device when one is found and passes the start-up check; otherwise the CPU.</summary>
    Auto,

    /// <summary>Always the processor's cores.</summary>
    Cpu,

    /// <summary>A CUDA device; its absence is a start-up error.</summary>
    Cuda,
}
