# Сводка: рассылки по состояниям, неделя в цифрах, ближайшие отправки, недавние ошибки.
dashboard-title = Сводка
dashboard-statuses-title = Рассылки по состояниям
# Под числом рассылок.
dashboard-status-created = { $count ->
    [one] создана
    [few] созданы
   *[many] создано
}
dashboard-status-running = { $count ->
    [one] идёт
   *[other] идут
}
dashboard-status-finished = { $count ->
    [one] завершена
    [few] завершены
   *[many] завершено
}
dashboard-status-disabled = { $count ->
    [one] отключена
    [few] отключены
   *[many] отключено
}
dashboard-steps-title = Три шага к первой рассылке:
dashboard-step-clients = Добавьте клиентов
# «(или импортируйте CSV-файл)», вторая часть — ссылка.
dashboard-step-or = или
dashboard-step-import = импортируйте CSV-файл
dashboard-step-message = Напишите сообщение
dashboard-step-mailing = Создайте рассылку
dashboard-step-mailing-hint = Создайте рассылку: выберите сообщение, клиентов и время отправки
dashboard-week-title = Последние 7 дней
# Каждое после числа.
dashboard-week-deliveries = { $count ->
    [one] доставка
    [few] доставки
   *[many] доставок
}
dashboard-week-successes = { $count ->
    [one] успешная
    [few] успешные
   *[many] успешных
}
dashboard-week-failures = { $count ->
    [one] неудачная
    [few] неудачные
   *[many] неудачных
}
dashboard-week-retries = { $count ->
    [one] повтор
    [few] повтора
   *[many] повторов
}
dashboard-week-rate = успешно { $rate }
dashboard-week-open-report = Открыть отчёт
dashboard-col-mailing = Рассылка
dashboard-col-deliveries = Доставки
dashboard-col-successes = Успешные
dashboard-col-failures = Неудачные
dashboard-col-report = Отчёт
dashboard-week-empty = За последние 7 дней ничего не отправлено.
dashboard-week-empty-link = Отчёты доступны за любой период.
dashboard-next-title = Ближайшие отправки
dashboard-next-report = отчёт
dashboard-next-empty = Ничего не запланировано.
dashboard-failures-title = Недавние ошибки
dashboard-failures-col-when = Когда
dashboard-failures-col-recipient = Получатель
dashboard-failures-col-reply = Ответ сервера
dashboard-failures-empty = Неудачных попыток нет.
dashboard-lead = Ваши рассылки с первого взгляда. Время указано в вашем часовом поясе, { $zone }.
