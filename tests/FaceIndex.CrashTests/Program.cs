using System.Globalization;

namespace FaceIndex.CrashTests;

/// <summary>
/// <c>dotnet FaceIndex.CrashTests.dll crash [--runs 20] [--seed 1] [--no-images] [--server-setting --Section:Setting=value]…</c>: the crash harness as a
/// tool. Prints one line per kill point and the totals; exit code 0 when nothing acknowledged was
/// lost and the index agreed with the store every time, 1 otherwise. (The test runner does not use
/// this entry point; CI runs the bounded <see cref="CrashTests"/>.)
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        int runs = 20;
        int seed = 1;
        bool images = true;
        var settings = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "crash":
                    break;
                case "--runs" when i + 1 < args.Length:
                    runs = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--seed" when i + 1 < args.Length:
                    seed = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--server-setting" when i + 1 < args.Length:
                    settings.Add(args[++i]);
                    break;
                case "--no-images":
                    images = false;
                    break;
                default:
                    Console.Error.WriteLine("usage: crash [--runs N] [--seed S] [--no-images] [--server-setting --Section:Setting=value]...");
                    return 2;
            }
        }

        var report = await CrashHarness.RunAsync(new CrashOptions(runs, seed, images, Console.Out, settings));
        Console.WriteLine(report.Passed ? "PASS" : "FAIL");
        return report.Passed ? 0 : 1;
    }
}
