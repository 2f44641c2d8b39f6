using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using FaceIndex.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FaceIndex.ConsoleTests;

/// <summary>
/// The real server (models, store, index) on loopback ports: gRPC on a free port, and the HTTP/1.1 port
/// of the REST API and the console on another. Keeps Error-level log lines so that a test fails on a fault
/// the server only logged.
/// </summary>
internal sealed class LoopbackServer : IAsyncDisposable
{
    public const string Key = "console-test-key-0123456789";
    public const string ReaderKey = "console-reader-key-0123456789";

    private readonly WebApplication _app;
    private readonly TempDirectory _data;

    private LoopbackServer(WebApplication app, TempDirectory data, string httpAddress, string grpcAddress, ConcurrentQueue<string> errors)
    {
        _app = app;
        _data = data;
        HttpAddress = httpAddress;
        GrpcAddress = grpcAddress;
        Errors = errors;
    }

    /// <summary>http://127.0.0.1:port/ (https when TLS is configured) of the REST API and console.</summary>
    public string HttpAddress { get; }

    public string GrpcAddress { get; }

    public ConcurrentQueue<string> Errors { get; }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts a server with API keys on (a writer key and a read-only key); extra settings are --Section:Setting=value.</summary>
    public static async Task<LoopbackServer> StartAsync(params string[] settings)
    {
        var data = TestPaths.NewTempDirectory();
        int httpPort = FreePort();
        string[] args =
        [
            "--Storage:DataDirectory=" + data.Path,
            "--Vision:ModelsDirectory=" + TestPaths.Models,
            "--Server:Port=0",
            "--Server:MetricsPort=0",
            "--Server:HttpPort=" + httpPort,
            "--Storage:MemoryBudgetBytes=" + (32L << 20),
            "--Storage:IndexBuckets=" + (1L << 14),
            "--Storage:WalMemoryBytes=" + (4L << 20),
            "--Storage:SegmentSizeBytes=" + (16L << 20),
            "--Auth:Enabled=true",
            "--Auth:Keys:0:Name=writer", "--Auth:Keys:0:Key=" + Key, "--Auth:Keys:0:Collections:0=*",
            "--Auth:Keys:1:Name=reader", "--Auth:Keys:1:Key=" + ReaderKey, "--Auth:Keys:1:Collections:0=*", "--Auth:Keys:1:ReadOnly=true",
            .. settings,
        ];
        var builder = Server.FaceIndexServer.CreateBuilder(args);
        var errors = new ConcurrentQueue<string>();
        builder.Logging.AddProvider(new ErrorCapture(errors));
        var app = Server.FaceIndexServer.Build(builder);
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        string http = addresses.First(a => a.EndsWith(":" + httpPort, StringComparison.Ordinal)) + "/";
        string grpc = addresses.First(a => !a.EndsWith(":" + httpPort, StringComparison.Ordinal));
        return new LoopbackServer(app, data, http, grpc, errors);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _data.Dispose();
        Assert.True(Errors.IsEmpty, "Unexpected error logs:\n" + string.Join("\n", Errors));
    }

    private sealed class ErrorCapture(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(lines, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string> lines, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    lines.Enqueue($"{category}: {formatter(state, exception)} {exception}");
                }
            }
        }
    }
}
