using FaceIndex.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FaceIndex.ConsoleTests;

/// <summary>
/// The web console in a real browser against the real server and models: sign in, create a collection,
/// enrol deepface photos by "dropping" them, search by photo (the right person; "unknown" for a stranger),
/// the person page's thumbnails, bad uploads, the dashboard, a clustering (a cluster named as a person,
/// then renamed), a phone-width layout, and a collection created with a model and another migrated to it.
/// Screenshots of each step go to <see cref="ConsoleFixture.Screenshots"/>.
/// </summary>
public sealed class ConsoleTests(ConsoleFixture fixture) : IClassFixture<ConsoleFixture>
{
    private static string Deepface(string file) => TestPaths.Faces("deepface", file);

    private static async Task SignInAsync(IPage page, string key = LoopbackServer.Key)
    {
        await page.GotoAsync("/console/");
        await page.Locator("#api-key").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    private static async Task EnrolAsync(IPage page, string person, string file)
    {
        await page.Locator("#enrol-person").FillAsync(person);
        await page.Locator(".drop input[type=file]").SetInputFilesAsync(Deepface(file));
        var item = page.Locator("article.face-item").First;
        await Expect(item).ToHaveAttributeAsync("aria-label", $"Photo {file}");
        await item.GetByRole(AriaRole.Button, new() { Name = "Enrol selected faces" }).ClickAsync();
        await Expect(item.GetByRole(AriaRole.Status)).ToContainTextAsync($"Enrolled 1 face as {person}.");
    }

    [Fact]
    public async Task A_collection_is_created_with_a_model_and_another_is_migrated_to_it_with_progress()
    {
        using (var rest = new Rest(fixture.Server.HttpAddress, LoopbackServer.Key))
        {
            await rest.PostAsync("/v1/collections", new { name = "to-migrate" });
            await rest.PostAsync("/v1/collections/to-migrate/persons/angelina/faces", new { image = Rest.Deepface("img1.jpg") });
            await rest.PostAsync("/v1/collections/to-migrate/persons/mark/faces", new { image = Rest.Deepface("img13.jpg") });
        }

        var page = await fixture.NewPageAsync();
        await SignInAsync(page);
        await page.GetByRole(AriaRole.Link, new() { Name = "Collections" }).ClickAsync();

        // The models come from Stats; the default is preselected.
        await Expect(page.Locator("#new-collection-model")).ToHaveValueAsync("fr512-pca128-v1");
        await page.Locator("#new-collection").FillAsync("fast-door");
        await page.Locator("#new-collection-model").SelectOptionAsync("dlib128-v1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        await Expect(page.Locator("tr[data-collection=fast-door] td").Nth(3)).ToHaveTextAsync("dlib128-v1");

        await page.Locator("#migrate-source").SelectOptionAsync("to-migrate");
        await page.Locator("#migrate-model").SelectOptionAsync("dlib128-v1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Migrate", Exact = true }).ClickAsync();
        await Expect(page.Locator("#migrate-status")).ToHaveTextAsync("Migrated: to-migrate-dlib128-v1 (dlib128-v1) holds 2 faces");
        var row = page.Locator("tr[data-collection=to-migrate-dlib128-v1] td");
        await Expect(row.Nth(2)).ToHaveTextAsync("2");
        await Expect(row.Nth(3)).ToHaveTextAsync("dlib128-v1");
        await ConsoleFixture.ShotAsync(page, "12-migrated");

        // Again: the target exists; the server's reason is shown.
        await page.GetByRole(AriaRole.Button, new() { Name = "Migrate", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("(ALREADY_EXISTS)");
    }

    [Fact]
    public async Task Sign_in_create_a_collection_enrol_and_search_by_photo()
    {
        var page = await fixture.NewPageAsync();

        await SignInAsync(page, "this-is-not-the-key-000");
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The API key is not valid. (UNAUTHENTICATED)");
        await ConsoleFixture.ShotAsync(page, "01-sign-in-wrong-key");
        await page.Locator("#api-key").FillAsync(LoopbackServer.Key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Collections" }).ClickAsync();
        await page.Locator("#new-collection").FillAsync("people");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        await Expect(page.Locator("tr[data-collection=people]")).ToBeVisibleAsync();
        await Expect(page.Locator("#collection")).ToHaveValueAsync("people");

        await page.GetByRole(AriaRole.Link, new() { Name = "Enrol" }).ClickAsync();
        await EnrolAsync(page, "angelina", "img1.jpg");
        await EnrolAsync(page, "angelina", "img2.jpg");
        await EnrolAsync(page, "mark", "img13.jpg");
        await EnrolAsync(page, "jack", "img16.jpg");
        await ConsoleFixture.ShotAsync(page, "02-enrol");

        // A text file: the server's reason is shown, nothing is stored.
        await page.Locator(".drop input[type=file]").SetInputFilesAsync(new FilePayload { Name = "notes.jpg", MimeType = "image/jpeg", Buffer = "not a photo"u8.ToArray() });
        await Expect(page.Locator("article.face-item").First.GetByRole(AriaRole.Alert)).ToContainTextAsync("(IMAGE_UNREADABLE)");
        await ConsoleFixture.ShotAsync(page, "03-enrol-bad-file");

        await page.GetByRole(AriaRole.Link, new() { Name = "Search" }).ClickAsync();
        await page.Locator(".drop input[type=file]").SetInputFilesAsync(Deepface("img4.jpg"));
        var match = page.Locator("[data-result=match]");
        await Expect(match).ToHaveTextAsync("angelina");
        await Expect(page.Locator("article.face-item .match").First).ToHaveAttributeAsync("data-person", "angelina");
        await Expect(page.Locator("article.face-item img[src^='data:image/jpeg']").First).ToBeVisibleAsync();
        await ConsoleFixture.ShotAsync(page, "04-search-match");

        await page.Locator(".drop input[type=file]").SetInputFilesAsync(TestPaths.Faces("lfw-disjoint", "AJ_Cook", "AJ_Cook_0001.jpg"));
        await Expect(page.Locator("[data-result=unknown]")).ToHaveTextAsync("unknown");
        await Expect(page.Locator("[data-result=match]")).ToHaveCountAsync(0);
        await ConsoleFixture.ShotAsync(page, "05-search-unknown");

        await page.GetByRole(AriaRole.Link, new() { Name = "Persons" }).ClickAsync();
        await Expect(page.Locator("tbody tr")).ToHaveCountAsync(3);
        await page.GetByRole(AriaRole.Link, new() { Name = "angelina" }).ClickAsync();
        await Expect(page.Locator(".thumbs img[src^='data:image/jpeg']")).ToHaveCountAsync(2);
        await ConsoleFixture.ShotAsync(page, "06-person");

        await page.GetByRole(AriaRole.Link, new() { Name = "Dashboard" }).ClickAsync();
        await Expect(page.Locator("#stat-faces")).ToHaveTextAsync("4");
        using (var rest = new Rest(fixture.Server.HttpAddress, LoopbackServer.Key))
        {
            for (int i = 0; i < 16; i++)
            {
                await rest.PostAsync("/v1/collections/people:search", new { image = Rest.Deepface($"img{5 + (i % 3)}.jpg") });
                await Task.Delay(400);
            }
        }

        // The plots come from the server's own Prometheus counters: the searches above show as a non-zero peak.
        await Expect(page.Locator(".plot").First).ToHaveAttributeAsync("aria-label", new System.Text.RegularExpressions.Regex("^Requests per second: now .*, peak (?!0\\.0/s)"));
        await Expect(page.Locator(".plot").Nth(1)).ToHaveAttributeAsync("aria-label", new System.Text.RegularExpressions.Regex("^Mean latency: now .*, peak (?!0\\.0 ms)"));
        await ConsoleFixture.ShotAsync(page, "07-dashboard");

        // Phone width: the same search page, laid out for a narrow screen.
        var phone = await fixture.NewPageAsync(390, 844);
        await SignInAsync(phone);
        await Expect(phone.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();
        await phone.Locator("#collection").SelectOptionAsync("people");
        await phone.GetByRole(AriaRole.Link, new() { Name = "Search" }).ClickAsync();
        await phone.Locator(".drop input[type=file]").SetInputFilesAsync(Deepface("img14.jpg"));
        await Expect(phone.Locator("[data-result=match]")).ToHaveTextAsync("mark");
        var width = await phone.EvaluateAsync<int>("document.documentElement.scrollWidth");
        Assert.True(width <= 390, $"the phone layout scrolls sideways ({width} px)");
        await ConsoleFixture.ShotAsync(phone, "08-phone-search");
    }

    [Fact]
    public async Task A_clustering_runs_from_the_console_and_its_clusters_can_be_browsed()
    {
        // Unlabelled photos: each enrolled under a person id of its own file name.
        using (var rest = new Rest(fixture.Server.HttpAddress, LoopbackServer.Key))
        {
            await rest.PostAsync("/v1/collections", new { name = "crowd" });
            foreach (var file in new[] { "img1.jpg", "img2.jpg", "img4.jpg", "img5.jpg", "img6.jpg", "img7.jpg", "img13.jpg", "img14.jpg", "img15.jpg", "img16.jpg" })
            {
                await rest.PostAsync($"/v1/collections/crowd/persons/{Path.GetFileNameWithoutExtension(file)}/faces", new { image = Rest.Deepface(file) });
            }
        }

        var page = await fixture.NewPageAsync();
        await SignInAsync(page);
        await page.Locator("#collection").SelectOptionAsync("crowd");
        await page.GetByRole(AriaRole.Link, new() { Name = "Clustering" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Start clustering" }).ClickAsync();
        await Expect(page.Locator("#cluster-status")).ToContainTextAsync("succeeded", new() { Timeout = 60_000 });
        var clusters = page.Locator("[data-cluster]");
        await Expect(clusters.First).ToBeVisibleAsync();
        Assert.True(await clusters.CountAsync() >= 2, "the angelina and jennifer photos should form two clusters of two or more");
        await Expect(clusters.First).ToContainTextAsync("6 faces");
        await ConsoleFixture.ShotAsync(page, "09-clusters");

        await clusters.First.GetByRole(AriaRole.Link).First.ClickAsync();
        await Expect(page.Locator(".thumbs img[src^='data:image/jpeg']")).ToHaveCountAsync(6);
        await Expect(page.GetByText("Merge suggestion:")).ToBeVisibleAsync();
        await ConsoleFixture.ShotAsync(page, "10-cluster");

        // Name the cluster as a person: its six faces (enrolled under six file names) go to one person.
        await page.GetByLabel("Person id").FillAsync("angelina");
        await page.GetByRole(AriaRole.Button, new() { Name = "Assign 6 faces" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "angelina", Exact = true })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "6 faces" })).ToBeVisibleAsync();

        // Rename that person from its page; the old id is gone.
        await page.GetByLabel("New person id").FillAsync("angelina-jolie");
        await page.GetByRole(AriaRole.Button, new() { Name = "Rename" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "angelina-jolie" })).ToBeVisibleAsync();
        await Expect(page.Locator(".thumbs img[src^='data:image/jpeg']")).ToHaveCountAsync(6);
        await ConsoleFixture.ShotAsync(page, "11-named-cluster");
        using var check = new Rest(fixture.Server.HttpAddress, LoopbackServer.Key);
        var (status, _) = await check.SendAsync(HttpMethod.Get, "/v1/collections/crowd/persons/angelina");
        Assert.Equal(404, status);
    }
}
