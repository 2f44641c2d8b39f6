using Microsoft.Extensions.Logging;

namespace FaceIndex.Gpu.Internal;

/// <summary>Log messages of FaceIndex.Gpu.</summary>
internal static partial class GpuLog
{
    [LoggerMessage(EventId = 1401, Level = LogLevel.Information, Message = "Exact scans on {Scanner}: {Reason}")]
    public static partial void ScannerChosen(ILogger logger, string scanner, string reason);
}
