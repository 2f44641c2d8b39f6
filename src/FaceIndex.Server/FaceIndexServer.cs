using FaceIndex.Cluster;
using FaceIndex.Clustering;
using FaceIndex.Engine;
using FaceIndex.Index;
using FaceIndex.Server.Internal;
using FaceIndex.Server.Services;
using FaceIndex.Storage;
using FaceIndex.Vision;
using Grpc.HealthCheck;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Prometheus;

namespace FaceIndex.Server;

/// <summary>
/// Builds the FaceIndex gRPC host: configuration (config/appsettings.json beside the binary, then
/// <c>FACEINDEX__Section__Setting</c> environment variables, then <c>--Section:Setting=value</c>
/// arguments), validated options, the face pipeline and database, the FaceIndex, health and
/// reflection services, API-key auth, Prometheus metrics and graceful shutdown. The executable's
/// <c>serve</c> verb, the tests and the benchmarks all host the server through this class.
/// </summary>
public static class FaceIndexServer
{
    /// <summary>Short command-line switches and the settings they stand for.</summary>
    private static readonly Dictionary<string, string> s_switches = new(StringComparer.Ordinal)
    {
        ["--port"] = "Server:Port",
        ["--address"] = "Server:Address",
        ["--metrics-port"] = "Server:MetricsPort",
        ["--data"] = "Storage:DataDirectory",
        ["--models"] = "Vision:ModelsDirectory",
        ["--provider"] = "Vision:Provider",
        ["--redis"] = "Cluster:Redis",
        ["--node"] = "Cluster:Node",
        ["--silo-port"] = "Cluster:SiloPort",
        ["--gateway-port"] = "Cluster:GatewayPort",
    };

    /// <summary>
    /// A builder with FaceIndex's configuration sources and services. Callers may change it (for
    /// example <c>builder.WebHost.UseTestServer()</c>) before <see cref="Build"/>.
    /// </summary>
    /// <param name="args">Command-line arguments: <c>--Section:Setting=value</c>, or the short switches --port, --address, --metrics-port, --data, --models, --provider; <c>--config FILE</c> adds a JSON file.</param>
    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        NativeAllocator.Tune();
        args = ExpandClusterSwitch(args);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = Directory.GetCurrentDirectory() });
        builder.Configuration.Sources.Clear();
        AddSources(builder.Configuration, args);

        var services = builder.Services;
        Bind<ServerOptions>(services, "Server", o => o.Validate());
        Bind<AuthOptions>(services, "Auth", o => o.Validate());
        Bind<StorageOptions>(services, "Storage", o => o.Validate());
        Bind<IndexOptions>(services, "Index", o => o.Validate());
        Bind<IndexingOptions>(services, "Indexing", o => o.Validate());
        Bind<VisionOptions>(services, "Vision", o => o.Validate());
        Bind<ClusteringOptions>(services, "Clustering", o => o.Validate());
        Bind<TelemetryOptions>(services, "Telemetry", o => o.Validate());
        AddTelemetry(builder);

        services.AddSingleton<HealthServiceImpl>();
        services.AddSingleton<ServerRuntime>();
        services.AddHostedService(sp => sp.GetRequiredService<ServerRuntime>());
        services.AddSingleton<ServerMetrics>();
        services.AddSingleton(sp =>
        {
            var runtime = sp.GetRequiredService<ServerRuntime>();
            return new BackgroundJobs(() => runtime.Database, () => runtime.MatchThreshold, sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<BackgroundJobs>>());
        });

        // After the runtime: starts once the database is open, stops before it closes.
        services.AddHostedService<BackgroundJobsHost>();
        services.AddSingleton<FaceThumbnails>();
        services.AddSingleton<MigratedCollections>();
        services.AddHostedService(sp => sp.GetRequiredService<FaceThumbnails>());
        services.AddOptions<VisionOptions>()
            .PostConfigure<IOptions<StorageOptions>>((vision, storage) => vision.ThumbnailQuality = storage.Value.KeepThumbnails ? FaceThumbnails.Quality : 0);
        services.AddSingleton<CallInterceptor>();
        services.AddSingleton<ApiKeyTable>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorization(CollectionAccess.AddPolicies);
        services.AddSingleton<IAuthorizationHandler, CollectionAccessHandler>();
        services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<CallInterceptor>();
            grpc.EnableDetailedErrors = false;
        }).AddJsonTranscoding(transcoding => transcoding.TypeRegistry = Google.Protobuf.Reflection.TypeRegistry.FromMessages(Google.Rpc.ErrorInfo.Descriptor));
        services.AddGrpcSwagger();
        services.AddSwaggerGen(swagger =>
        {
            swagger.SwaggerDoc("v1", new Microsoft.OpenApi.Models.OpenApiInfo
            {
                Title = "FaceIndex",
                Version = "v1",
                Description = "The faceindex.v1 API over HTTP/JSON (gRPC JSON transcoding). Images are base64 strings; 64-bit ids are strings; send the API key in x-api-key. Errors are google.rpc.Status objects whose details carry the machine-readable reason.",
            });
        });
        services.AddOptions<Grpc.AspNetCore.Server.GrpcServiceOptions>()
            .Configure<IOptions<ServerOptions>>((grpc, server) => grpc.MaxReceiveMessageSize = server.Value.MaxMessageBytes);
        services.AddGrpcReflection();
        services.AddOptions<HostOptions>()
            .Configure<IOptions<ServerOptions>>((host, server) => host.ShutdownTimeout = server.Value.ShutdownTimeout);

        AddClusterNode(builder);
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var server = context.Configuration.GetSection("Server").Get<ServerOptions>() ?? new ServerOptions();
            server.Validate();
            var address = System.Net.IPAddress.Parse(server.Address);
            var certificate = TlsCertificate.Load(server);
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Listen(address, server.Port, listen =>
            {
                // Without TLS the gRPC port speaks HTTP/2 only (prior knowledge); with TLS, ALPN also offers HTTP/1.1.
                listen.Protocols = certificate is null ? HttpProtocols.Http2 : HttpProtocols.Http1AndHttp2;
                if (certificate is not null)
                {
                    listen.UseHttps(certificate);
                }
            });
            if (server.HttpPort > 0)
            {
                kestrel.Listen(address, server.HttpPort, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    if (certificate is not null)
                    {
                        listen.UseHttps(certificate);
                    }
                });
            }

            if (server.MetricsPort > 0)
            {
                kestrel.Listen(address, server.MetricsPort, listen => listen.Protocols = HttpProtocols.Http1);
            }
        });
        return builder;
    }

    /// <summary>OpenTelemetry traces and metrics to an OTLP collector, when Telemetry:OtlpEndpoint is set.</summary>
    private static void AddTelemetry(WebApplicationBuilder builder)
    {
        var telemetry = builder.Configuration.GetSection("Telemetry").Get<TelemetryOptions>() ?? new TelemetryOptions();
        telemetry.Validate();
        if (telemetry.OtlpEndpoint is not { } endpoint)
        {
            return;
        }

        var otlp = new Uri(endpoint);
        string[] sources = [ServerTelemetry.Name, "FaceIndex.Vision", "FaceIndex.Storage"];
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(telemetry.ServiceName))
            .WithTracing(tracing => tracing
                .SetSampler(new OpenTelemetry.Trace.ParentBasedSampler(new OpenTelemetry.Trace.TraceIdRatioBasedSampler(telemetry.TraceSampleRatio)))
                .AddSource(sources)
                .AddAspNetCoreInstrumentation()
                .AddOtlpExporter(o => o.Endpoint = otlp))
            .WithMetrics(metrics => metrics
                .AddMeter(sources)
                .AddAspNetCoreInstrumentation()
                .AddOtlpExporter(o => o.Endpoint = otlp));
    }

    /// <summary>
    /// The configuration the server would read with <paramref name="args"/>, for tools that take their
    /// defaults from it (for example the Clustering section) without hosting a server.
    /// </summary>
    public static IConfiguration ReadConfiguration(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var configuration = new ConfigurationBuilder();
        AddSources(configuration, args);
        return configuration.Build();
    }

    /// <summary>Builds the application from <paramref name="builder"/> and maps its endpoints.</summary>
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var app = builder.Build();
        var server = app.Services.GetRequiredService<IOptions<ServerOptions>>().Value;

        var metrics = app.Services.GetRequiredService<ServerMetrics>();
        if (server.MetricsPort > 0)
        {
            app.UseMetricServer(server.MetricsPort, "/metrics", metrics.Registry);
        }

        // API keys: the FaceIndex API (gRPC and REST) and the console's metrics require a caller when
        // authentication is on; health, reflection, OpenAPI and the console's files stay open. A
        // cluster node serves the same API over the cluster, with the same keys.
        app.UseAuthentication();
        app.UseAuthorization();
        bool auth = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value.Enabled;
        var api = app.Services.GetService<Cluster.FaceCluster>() is not null
            ? app.MapGrpcService<ClusterFaceIndexService>()
            : app.MapGrpcService<FaceIndexService>();
        if (auth)
        {
            api.RequireAuthorization(CollectionAccess.Caller);
        }

        if (server.HttpPort > 0)
        {
            app.UseSwagger(swagger => swagger.RouteTemplate = "openapi/{documentName}.json");
            var metricsEndpoint = app.MapConsole(metrics.Registry);
            if (auth)
            {
                metricsEndpoint.RequireAuthorization(CollectionAccess.Caller);
            }
        }

        app.MapGrpcService<HealthServiceImpl>();
        if (server.Reflection)
        {
            app.MapGrpcReflectionService();
        }

        return app;
    }

    /// <summary>Builds and runs the server until it is stopped (Ctrl+C or SIGTERM: drains, snapshots, checkpoints).</summary>
    public static async Task RunAsync(string[] args, CancellationToken ct = default)
    {
        var app = Build(CreateBuilder(args));
        await app.RunAsync(ct).ConfigureAwait(false);
    }

    /// <summary><c>--cluster</c> alone stands for <c>--Cluster:Enabled=true</c>.</summary>
    private static string[] ExpandClusterSwitch(string[] args) =>
        [.. args.Select(a => a == "--cluster" ? "--Cluster:Enabled=true" : a)];

    /// <summary>
    /// In cluster mode (<c>Cluster:Enabled</c>), hosts an Orleans silo on Redis (<c>Cluster:Redis</c>,
    /// <c>Cluster:Node</c>) whose shard replicas live under <c>Cluster:DataDirectory</c> (default: the
    /// store's data directory); the gRPC service then serves the cluster. Nothing changes otherwise.
    /// </summary>
    private static void AddClusterNode(WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection("Cluster");
        var settings = section.Get<Cluster.ClusterNodeSettings>() ?? new Cluster.ClusterNodeSettings();
        if (!settings.Enabled)
        {
            return;
        }

        var dataDirectory = builder.Configuration["Storage:DataDirectory"] ?? new StorageOptions().DataDirectory;
        builder.AddFaceIndexClusterNode(settings, options =>
        {
            options.DataDirectory = dataDirectory;
            section.Bind(options);
            builder.Configuration.GetSection("Storage").Bind(options.Storage);
            builder.Configuration.GetSection("Index").Bind(options.Index);
            builder.Configuration.GetSection("Indexing").Bind(options.Indexing);
        });
    }

    private static void Bind<T>(IServiceCollection services, string section, Action<T> validate)
        where T : class
    {
        services.AddOptions<T>()
            .BindConfiguration(section)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<T>>(new SectionValidator<T>(validate));
    }

    /// <summary>
    /// FaceIndex's configuration sources, later ones winning: appsettings.json beside the binary, the
    /// <c>--config FILE</c> given, <c>FACEINDEX__Section__Setting</c> environment variables, then the
    /// command line (<c>--Section:Setting=value</c> and the short switches).
    /// </summary>
    private static void AddSources(IConfigurationBuilder configuration, string[] args)
    {
        configuration.AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true, reloadOnChange: false);
        var extra = ConfigFile(args);
        if (extra is not null)
        {
            configuration.AddJsonFile(Path.GetFullPath(extra), optional: false, reloadOnChange: false);
        }

        configuration.AddEnvironmentVariables("FACEINDEX__");
        configuration.AddCommandLine(WithoutConfigFile(args), s_switches);
    }

    private static string? ConfigFile(string[] args)
    {
        for (int i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--config")
            {
                return args[i + 1];
            }
        }

        return null;
    }

    private static string[] WithoutConfigFile(string[] args)
    {
        var rest = new List<string>(args.Length);
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--config")
            {
                i++;
                continue;
            }

            rest.Add(args[i]);
        }

        return [.. rest];
    }

    /// <summary>
    /// Runs a section's checks at start (ValidateOnStart): every section is checked before anything
    /// starts, and each bad setting is reported with a message that names it (all sections' failures
    /// together in one start-up error).
    /// </summary>
    private sealed class SectionValidator<T>(Action<T> validate) : IValidateOptions<T>
        where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            try
            {
                validate(options);
                return ValidateOptionsResult.Success;
            }
            catch (ArgumentException ex)
            {
                return ValidateOptionsResult.Fail(ex.Message);
            }
        }
    }
}
