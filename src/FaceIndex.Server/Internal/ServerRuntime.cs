using System.Diagnostics.CodeAnalysis;
using FaceIndex.Engine;
using FaceIndex.Gpu;
using FaceIndex.Index;
using FaceIndex.Storage;
using FaceIndex.Vision;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FaceIndex.Server.Internal;

/// <summary>
/// The server's long-lived parts: the face pipeline and the database. Opened by the host before it
/// listens (models loaded, store recovered, index snapshots reconciled), closed after it has stopped
/// listening and drained the running calls (snapshots and a final checkpoint are written then).
/// Health reports SERVING between the two.
/// </summary>
internal sealed partial class ServerRuntime(
    IOptions<VisionOptions> vision,
    IOptions<StorageOptions> storage,
    IOptions<IndexOptions> index,
    IOptions<IndexingOptions> indexing,
    IOptions<ServerOptions> server,
    HealthServiceImpl health,
    IHostApplicationLifetime lifetime,
    ILoggerFactory loggerFactory) : IHostedService
{
    /// <summary>The name health checks use for the FaceIndex service.</summary>
    public const string ServiceName = "faceindex.v1.FaceIndex";

    private readonly ILogger _logger = loggerFactory.CreateLogger<ServerRuntime>();
    private FacePipeline? _pipeline;
    private FaceDatabase? _database;
    private IExactScanner? _scanner;

    /// <summary>The face pipeline (after start).</summary>
    public FacePipeline Pipeline => _pipeline ?? throw NotReady();

    /// <summary>The database (after start).</summary>
    public FaceDatabase Database => _database ?? throw NotReady();

    /// <summary>The search match threshold in force: the configured one, or the model bundle's identification threshold.</summary>
    public float MatchThreshold => server.Value.MatchThreshold ?? Pipeline.IdentificationThreshold;

    /// <summary>The verification threshold in force: the configured one, or the model bundle's.</summary>
    public float VerifyThreshold => server.Value.VerifyThreshold ?? Pipeline.DefaultThreshold;

    /// <summary>Collections smaller than this are scanned exactly.</summary>
    public int ExactSearchBelow => indexing.Value.ExactSearchBelow;

    public bool TryGetDatabase([NotNullWhen(true)] out FaceDatabase? database)
    {
        database = _database;
        return database is not null;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        SetHealth(HealthCheckResponse.Types.ServingStatus.NotServing);
        _pipeline = FacePipeline.Create(vision.Value, loggerFactory);
        indexing.Value.Validate();
        var device = Enum.Parse<ScanDevice>(indexing.Value.ScanDevice, ignoreCase: true);
        _scanner = ExactScanners.Select(device, 0, loggerFactory.CreateLogger(typeof(ExactScanners)));
        _database = await FaceDatabase.OpenAsync(storage.Value, index.Value, indexing.Value, _pipeline.ModelVersion, loggerFactory, _scanner, cancellationToken).ConfigureAwait(false);
        lifetime.ApplicationStopping.Register(() => SetHealth(HealthCheckResponse.Types.ServingStatus.NotServing));
        SetHealth(HealthCheckResponse.Types.ServingStatus.Serving);
        var options = server.Value;
        LogReady(_logger, options.Address, options.Port, _pipeline.ModelVersion, MatchThreshold, VerifyThreshold);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        SetHealth(HealthCheckResponse.Types.ServingStatus.NotServing);
        if (_database is { } database)
        {
            await database.DisposeAsync().ConfigureAwait(false);
        }

        // After the database: its tails scan on the device until they close.
        (_scanner as IDisposable)?.Dispose();
        if (_pipeline is { } pipeline)
        {
            await pipeline.DisposeAsync().ConfigureAwait(false);
        }

        LogStopped(_logger);
    }

    private void SetHealth(HealthCheckResponse.Types.ServingStatus status)
    {
        health.SetStatus("", status);
        health.SetStatus(ServiceName, status);
    }

    private static InvalidOperationException NotReady() => new("The server has not finished starting.");

    [LoggerMessage(5060, LogLevel.Information, "FaceIndex serving gRPC on {Address}:{Port}; model {ModelVersion}, search threshold {Threshold}, verify threshold {VerifyThreshold}")]
    private static partial void LogReady(ILogger logger, string address, int port, string modelVersion, float threshold, float verifyThreshold);

    [LoggerMessage(5061, LogLevel.Information, "FaceIndex stopped: requests drained, snapshots and checkpoint written")]
    private static partial void LogStopped(ILogger logger);
}
