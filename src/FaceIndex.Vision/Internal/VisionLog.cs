using Microsoft.Extensions.Logging;

namespace FaceIndex.Vision.Internal;

/// <summary>Log messages of the face pipeline (event ids 3000–3099). No image data or vectors are logged.</summary>
internal static partial class VisionLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Face pipeline ready: model {ModelVersion}, provider {Provider}, {Sessions} sessions × {Threads} intra-op threads, flip averaging {Flip}")]
    public static partial void PipelineReady(ILogger logger, string modelVersion, ExecutionProvider provider, int sessions, int threads, bool flip);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Error, Message = "Embedding a batch failed")]
    public static partial void EmbeddingFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Debug, Message = "Analysed a {Width}×{Height} image: {Faces} faces")]
    public static partial void ImageAnalysed(ILogger logger, int width, int height, int faces);
}
