home-title = Home
home-headline = Mailings that warm up your audience
home-lead = Keep your clients, write messages, and schedule mailings that go out once or every day, week or month. Every delivery attempt is logged for your reports.
home-stats = Mailer in numbers
home-stat-mailings = { $count ->
    [one] Mailing
   *[other] Mailings
}
home-stat-mailings-note = scheduled by our users so far.
home-stat-active = { $count ->
    [one] Active mailing
   *[other] Active mailings
}
home-stat-active-note = sending right now.
home-stat-clients = { $count ->
    [one] Unique client
   *[other] Unique clients
}
home-stat-clients-note = reached by those mailings.
home-from-blog = From the blog
blog-title = Blog
blog-lead = News and advice on keeping your mailings warm.
blog-newer = Newer
blog-older = Older
blog-empty = No posts yet. Come back soon.
blog-all-posts = All posts
blog-views = { $count ->
    [one] view
   *[other] views
}
