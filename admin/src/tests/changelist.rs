//! The change list: search (through a foreign key too, wildcards escaped), filters,
//! ordering, paging and the cells.

use super::{actor, add_author, add_book, pairs, setup, titles};

#[tokio::test]
async fn changelist_searches_filters_sorts_and_pages() {
    let (toy, admin, _) = setup().await;
    let ann = add_author(&toy, "Ann Akhmatova").await;
    let leo = add_author(&toy, "Leo Tolstoy").await;
    add_book(&toy, "War and Peace", Some(leo.id), "novel", true).await;
    add_book(&toy, "Anna Karenina", Some(leo.id), "novel", false).await;
    add_book(&toy, "Requiem", Some(ann.id), "poetry", true).await;
    add_book(&toy, "Evening", Some(ann.id), "poetry", false).await;
    let reader = actor("reader");

    let all = admin.changelist(&toy, &reader, "books", &[]).await.unwrap();
    assert_eq!(all.template, "admin/changelist.html");
    assert_eq!(all.context["list"]["total"], 4);
    assert_eq!(all.context["list"]["pages"], 2);
    assert_eq!(
        titles(&all),
        ["Anna Karenina", "Evening", "Requiem"],
        "ordered by title, 3 a page"
    );
    let first = &all.context["list"]["rows"][0]["cells"];
    assert_eq!(
        first[1]["text"], "Leo Tolstoy",
        "a foreign key shows its label"
    );
    assert_eq!(first[2]["text"], "Novel", "a choice shows its label");
    assert_eq!(first[3]["kind"], "bool");
    assert_eq!(first[5]["text"], "13", "computed column");
    assert_eq!(all.context["list"]["next_query"], "?p=2");

    let page2 = admin
        .changelist(&toy, &reader, "books", &pairs(&[("p", "2")]))
        .await
        .unwrap();
    assert_eq!(titles(&page2), ["War and Peace"]);
    let past_end = admin
        .changelist(&toy, &reader, "books", &pairs(&[("p", "99")]))
        .await
        .unwrap();
    assert_eq!(past_end.context["list"]["page"], 2);

    let search = admin
        .changelist(&toy, &reader, "books", &pairs(&[("q", "ANNA")]))
        .await
        .unwrap();
    assert_eq!(titles(&search), ["Anna Karenina"]);
    let by_author = admin
        .changelist(&toy, &reader, "books", &pairs(&[("q", "akhmat")]))
        .await
        .unwrap();
    assert_eq!(
        titles(&by_author),
        ["Evening", "Requiem"],
        "search through the foreign key"
    );
    let wildcard = admin
        .changelist(&toy, &reader, "books", &pairs(&[("q", "%")]))
        .await
        .unwrap();
    assert_eq!(
        wildcard.context["list"]["total"], 0,
        "LIKE wildcards are escaped"
    );

    let public = admin
        .changelist(
            &toy,
            &reader,
            "books",
            &pairs(&[("is_public", "1"), ("kind", "poetry")]),
        )
        .await
        .unwrap();
    assert_eq!(titles(&public), ["Requiem"]);
    let filters = public.context["list"]["filters"].as_array().unwrap();
    assert_eq!(filters[0]["title"], "Is public");
    let yes = &filters[0]["options"][1];
    assert_eq!(
        (yes["label"].as_str(), yes["selected"].as_bool()),
        (Some("Yes"), Some(true))
    );
    assert_eq!(
        filters[0]["options"][0]["query"], "?kind=poetry",
        "All drops the filter"
    );
    let bogus = admin
        .changelist(&toy, &reader, "books", &pairs(&[("kind", "cookbook")]))
        .await
        .unwrap();
    assert_eq!(
        bogus.context["list"]["total"], 4,
        "an unknown choice filters nothing"
    );
    let today = admin
        .changelist(&toy, &reader, "books", &pairs(&[("published_at", "today")]))
        .await
        .unwrap();
    assert_eq!(today.context["list"]["total"], 4);
    let undated = admin
        .changelist(&toy, &reader, "books", &pairs(&[("published_at", "none")]))
        .await
        .unwrap();
    assert_eq!(undated.context["list"]["total"], 0);

    let desc = admin
        .changelist(
            &toy,
            &reader,
            "books",
            &pairs(&[("o", "-pages"), ("q", "a")]),
        )
        .await
        .unwrap();
    let heads = desc.context["list"]["columns"].as_array().unwrap();
    assert_eq!(heads[4]["sorted"], "desc");
    assert_eq!(heads[4]["sort_query"], "?o=pages&q=a");
    assert_eq!(heads[5]["sortable"], false, "computed columns do not sort");
    let asc = admin
        .changelist(&toy, &reader, "books", &pairs(&[("o", "-title")]))
        .await
        .unwrap();
    assert_eq!(titles(&asc), ["War and Peace", "Requiem", "Evening"]);
}
