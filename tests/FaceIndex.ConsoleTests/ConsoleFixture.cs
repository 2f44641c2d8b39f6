using Microsoft.Playwright;

namespace FaceIndex.ConsoleTests;

/// <summary>
/// A loopback server and Debian's chromium driven by Playwright. Playwright's own browser download cannot
/// run here (no internet): the system chromium is launched through ExecutablePath (FACEINDEX_CHROMIUM
/// overrides /usr/bin/chromium) and PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD keeps the driver from fetching
/// or checking browsers of its own.
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    private LoopbackServer? _server;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    internal LoopbackServer Server => _server ?? throw new InvalidOperationException("Not started.");

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("Not started.");

    /// <summary>Where screenshots go (FACEINDEX_SCREENSHOTS, or screenshots/ beside the test binary).</summary>
    public static string Screenshots { get; } =
        Environment.GetEnvironmentVariable("FACEINDEX_SCREENSHOTS") is { Length: > 0 } dir ? dir : Path.Combine(AppContext.BaseDirectory, "screenshots");

    public static string Chromium =>
        Environment.GetEnvironmentVariable("FACEINDEX_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(Chromium), $"The browser tests need chromium at {Chromium} (apt-get install -y chromium, or set FACEINDEX_CHROMIUM).");
        Directory.CreateDirectory(Screenshots);
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_VALIDATE_HOST_REQUIREMENTS", "1");
        _server = await LoopbackServer.StartAsync();
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        });
    }

    /// <summary>A page in a fresh context (its own sessionStorage) of the given size.</summary>
    public async Task<IPage> NewPageAsync(int width = 1280, int height = 860)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Server.HttpAddress,
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        context.SetDefaultTimeout(30_000);
        return await context.NewPageAsync();
    }

    public static Task ShotAsync(IPage page, string name, bool fullPage = true) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = fullPage });

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
