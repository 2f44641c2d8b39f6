using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace FaceIndex.Testing;

/// <summary>
/// The real <c>faceindex serve</c> as a child process on a free loopback port, over a data directory:
/// the crash harness kills it with SIGKILL, the soak reads its resident memory. Its console output
/// goes to a log file beside the data directory (kept for diagnosis).
/// </summary>
/// <remarks>Linked into bench/FaceIndex.Benchmarks too; the path of faceindex.dll comes from the
/// <c>FaceIndexCli</c> assembly metadata of the project that compiles this file, or the
/// <c>FACEINDEX_CLI</c> environment variable.</remarks>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Task _stdout;
    private readonly Task _stderr;
    private int _disposed;

    private ServerProcess(Process process, StreamWriter log, int port, string logPath)
    {
        _process = process;
        _log = log;
        Port = port;
        LogPath = logPath;
        Channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}", new GrpcChannelOptions { MaxReceiveMessageSize = 64 << 20 });
        Client = new Protocol.V1.FaceIndex.FaceIndexClient(Channel);
        _stdout = PumpAsync(process.StandardOutput);
        _stderr = PumpAsync(process.StandardError);
    }

    /// <summary>The server's gRPC port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The file that receives the server's console output.</summary>
    public string LogPath { get; }

    /// <summary>The operating-system process id.</summary>
    public int Pid => _process.Id;

    public GrpcChannel Channel { get; }

    public Protocol.V1.FaceIndex.FaceIndexClient Client { get; }

    /// <summary>True once the process has ended (killed, crashed or stopped).</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code once the process has ended.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>faceindex.dll of this build.</summary>
    public static string CliPath =>
        Environment.GetEnvironmentVariable("FACEINDEX_CLI") is { Length: > 0 } path
            ? path
            : typeof(ServerProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "FaceIndexCli").Value!;

    /// <summary>
    /// Starts the server on <paramref name="dataDirectory"/> with <paramref name="settings"/>
    /// (<c>--Section:Setting=value</c>) and waits until its health check says SERVING.
    /// </summary>
    /// <exception cref="InvalidOperationException">The process exited or did not serve within <paramref name="timeout"/>; the message holds the end of its log.</exception>
    public static async Task<ServerProcess> StartAsync(string dataDirectory, string modelsDirectory, string logPath, IEnumerable<string> settings, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        int port = FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(CliPath);
        info.ArgumentList.Add("serve");
        foreach (var arg in (string[])[
            "--Server:Address=127.0.0.1",
            "--Server:Port=" + port.ToString(CultureInfo.InvariantCulture),
            "--Server:MetricsPort=0",
            "--Server:HttpPort=0",
            "--Storage:DataDirectory=" + dataDirectory,
            "--Vision:ModelsDirectory=" + modelsDirectory,
            "--Logging:Console:FormatterName=simple",
            .. settings])
        {
            info.ArgumentList.Add(arg);
        }

        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                info.Environment[key] = value;
            }
        }

        var log = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        log.WriteLine($"==== {DateTime.UtcNow:O} start on port {port}");
        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start.");
        var server = new ServerProcess(process, log, port, logPath);
        try
        {
            await server.WaitServingAsync(timeout);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGKILL: the process ends at once, without draining, snapshots or checkpoint.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary>SIGTERM, then waits for the graceful shutdown (drain, snapshots, checkpoint); false when it had to be killed.</summary>
    public async Task<bool> StopAsync(TimeSpan timeout)
    {
        if (_process.HasExited)
        {
            return true;
        }

        using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await term.WaitForExitAsync();
        }

        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            Kill();
            return false;
        }
    }

    /// <summary>Resident memory of the server process in bytes (VmRSS of /proc/PID/status).</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    /// <summary>The last <paramref name="lines"/> lines of the server's log.</summary>
    public string LogTail(int lines = 40)
    {
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var all = reader.ReadToEnd().Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Kill();
        await _process.WaitForExitAsync();
        await Task.WhenAll(_stdout, _stderr);
        Channel.Dispose();
        _log.WriteLine($"==== {DateTime.UtcNow:O} exited with {_process.ExitCode}");
        await _log.DisposeAsync();
        _process.Dispose();
    }

    private async Task WaitServingAsync(TimeSpan timeout)
    {
        var health = new Health.HealthClient(Channel);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                await Task.WhenAll(_stdout, _stderr);
                throw new InvalidOperationException($"The server exited with code {_process.ExitCode} before serving:\n{LogTail()}");
            }

            try
            {
                var reply = await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                if (reply.Status == HealthCheckResponse.Types.ServingStatus.Serving)
                {
                    return;
                }
            }
            catch (RpcException)
            {
                // Not listening yet.
            }

            if (clock.Elapsed > timeout)
            {
                throw new InvalidOperationException($"The server did not serve within {timeout.TotalSeconds:F0} s:\n{LogTail()}");
            }

            await Task.Delay(50);
        }
    }

    private async Task PumpAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (_log)
            {
                _log.WriteLine(line);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
