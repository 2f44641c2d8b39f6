using FaceIndex.Engine;
using Microsoft.Extensions.Hosting;

namespace FaceIndex.Server.Internal;

/// <summary>
/// Runs the engine's <see cref="BackgroundJobs"/> with the host: registered after
/// <see cref="ServerRuntime"/>, it starts once the database is open and stops the running jobs
/// before the database closes.
/// </summary>
internal sealed class BackgroundJobsHost(BackgroundJobs jobs) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => jobs.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => jobs.StopAsync(cancellationToken);
}
