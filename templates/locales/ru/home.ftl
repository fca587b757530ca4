home-title = Главная
home-headline = Рассылки, которые греют вашу аудиторию
home-lead = Храните клиентов, пишите сообщения и планируйте рассылки — разово или каждый день, неделю, месяц. Каждая попытка отправки записывается для ваших отчётов.
home-stats = Mailer в цифрах
home-stat-mailings = { $count ->
    [one] рассылка
    [few] рассылки
   *[many] рассылок
}
home-stat-mailings-note = уже запланировали наши пользователи.
home-stat-active = { $count ->
    [one] активная рассылка
    [few] активные рассылки
   *[many] активных рассылок
}
home-stat-active-note = отправляются прямо сейчас.
home-stat-clients = { $count ->
    [one] уникальный клиент
    [few] уникальных клиента
   *[many] уникальных клиентов
}
home-stat-clients-note = получили эти рассылки.
home-from-blog = Из блога
blog-title = Блог
blog-lead = Новости и советы о том, как сохранить рассылки тёплыми.
blog-newer = Новее
blog-older = Старше
blog-empty = Записей пока нет. Загляните позже.
blog-all-posts = Все записи
blog-views = { $count ->
    [one] просмотр
    [few] просмотра
   *[many] просмотров
}
