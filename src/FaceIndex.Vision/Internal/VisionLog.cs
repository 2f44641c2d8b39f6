using Microsoft.Extensions.Logging;

namespace FaceIndex.Vision.Internal;

/// <summary>Log messages of the face pipeline (event ids 3000–3099). No image data or vectors are logged.</summary>
internal static partial class VisionLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Face pipeline ready: model {ModelVersion}; providers: {Providers}; {Sessions} sessions × {Threads} intra-op threads; up to {MaxBatch} faces per inference, waiting up to {MaxWaitMs} ms for a batch; flip averaging {Flip}")]
    public static partial void PipelineReady(ILogger logger, string modelVersion, string providers, int sessions, int threads, int maxBatch, double maxWaitMs, bool flip);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Error, Message = "An inference of a batch of {Count} samples failed")]
    public static partial void InferenceFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Debug, Message = "Analysed a {Width}×{Height} image: {Faces} faces")]
    public static partial void ImageAnalysed(ILogger logger, int width, int height, int faces);
}
